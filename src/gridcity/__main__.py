"""``python -m gridcity`` runs the command line, like the ``gridcity`` script."""

from gridcity.cli import main

main()
