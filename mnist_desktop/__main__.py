import sys

from .predict_cli import launch  # predict without loading Qt; everything else opens the app

sys.exit(launch())
