"""python -m journeys.cli"""

from journeys.cli.main import main

main()
