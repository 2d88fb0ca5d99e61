import sys

from deepnum.cli import main

sys.exit(main())
