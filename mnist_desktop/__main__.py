import sys

from .command import launch  # predict without loading Qt; everything else opens the app

sys.exit(launch())
