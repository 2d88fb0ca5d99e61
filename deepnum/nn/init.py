"""Parameter initialisation (``torch.nn.init``) and the schemes of the notes."""
