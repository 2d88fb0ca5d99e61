"""REINFORCE policy gradient on a corridor, written exactly as pytorch/examples' reinforce.py.

The environment lives in the program: the agent starts at the left end of a corridor of
``--length`` cells and moves left or right; reaching the right end pays +1 and ends the
episode, every step costs 0.01, and an episode stops after ``--max-steps`` steps. The
observation is the one-hot position (a NumPy array, as gym returns). The policy samples
actions from ``torch.distributions.Categorical``; returns are discounted, normalised and
weighted into ``-log_prob * R``.

    python examples/pytorch_compat/reinforce.py --episodes 300
"""

import argparse
from collections import deque

import numpy as np

import deepnum as torch
import deepnum.nn as nn
import deepnum.nn.functional as F
import deepnum.optim as optim
from deepnum.distributions import Categorical


class Corridor:
    """Cells 0..length-1; actions 0 = left, 1 = right; the goal is the last cell."""

    def __init__(self, length=6, max_steps=40):
        self.length, self.max_steps = length, max_steps

    def _obs(self):
        obs = np.zeros(self.length, dtype=np.float32)
        obs[self.pos] = 1.0
        return obs

    def reset(self):
        self.pos, self.steps = 0, 0
        return self._obs()

    def step(self, action):
        self.pos = min(max(self.pos + (1 if action == 1 else -1), 0), self.length - 1)
        self.steps += 1
        done = self.pos == self.length - 1
        reward = 1.0 if done else -0.01
        truncated = self.steps >= self.max_steps
        return self._obs(), reward, done, truncated


class Policy(nn.Module):
    def __init__(self, n_states, n_actions=2):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(n_states, 64)
        self.dropout = nn.Dropout(p=0.1)
        self.affine2 = nn.Linear(64, n_actions)

        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = self.affine1(x)
        x = self.dropout(x)
        x = F.relu(x)
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1)


def select_action(policy, state):
    state = torch.from_numpy(state).float().unsqueeze(0)
    probs = policy(state)
    m = Categorical(probs)
    action = m.sample()
    policy.saved_log_probs.append(m.log_prob(action))
    return action.item()


def finish_episode(policy, optimizer, gamma, eps):
    R = 0
    policy_loss = []
    returns = deque()
    for r in policy.rewards[::-1]:
        R = r + gamma * R
        returns.appendleft(R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for log_prob, R in zip(policy.saved_log_probs, returns):
        policy_loss.append(-log_prob * R)
    optimizer.zero_grad()
    policy_loss = torch.cat(policy_loss).sum()
    policy_loss.backward()
    optimizer.step()
    del policy.rewards[:]
    del policy.saved_log_probs[:]


def greedy_return(policy, env):
    """The return of the most probable action at every step (no exploration, no dropout)."""
    policy.eval()
    state, total = env.reset(), 0.0
    with torch.no_grad():
        while True:
            action = policy(torch.from_numpy(state).unsqueeze(0)).argmax(dim=1).item()
            state, reward, done, truncated = env.step(action)
            total += reward
            if done or truncated:
                break
    policy.train()
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description="REINFORCE on a corridor")
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--length", type=int, default=6)
    parser.add_argument("--max-steps", type=int, default=40)
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=543)
    parser.add_argument("--log-interval", type=int, default=50)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    env = Corridor(args.length, args.max_steps)
    policy = Policy(args.length)
    optimizer = optim.Adam(policy.parameters(), lr=args.lr)
    eps = np.finfo(np.float32).eps.item()

    running_reward = -0.01 * args.max_steps
    for i_episode in range(1, args.episodes + 1):
        state, ep_reward = env.reset(), 0
        for t in range(1, 10000):  # Don't infinite loop while learning
            action = select_action(policy, state)
            state, reward, done, truncated = env.step(action)
            policy.rewards.append(reward)
            ep_reward += reward
            if done or truncated:
                break

        running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
        finish_episode(policy, optimizer, args.gamma, eps)
        if i_episode % args.log_interval == 0:
            print(
                "Episode {}\tLast reward: {:.2f}\tAverage reward: {:.2f}".format(
                    i_episode, ep_reward, running_reward
                )
            )

    best = 1.0 - 0.01 * (args.length - 2)
    final = greedy_return(policy, env)
    print(
        f"greedy return {final:.2f} (best possible {best:.2f}); running reward {running_reward:.2f}"
    )
    return {"greedy_return": final, "running_reward": running_reward, "best": best}


if __name__ == "__main__":
    main()
