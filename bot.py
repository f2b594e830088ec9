"""Entry point: `python bot.py` runs the product (see `partybot run`).

The Telegram front end is built on the same services; until it lands, this starts the
terminal chat over the same retrieval pipeline.
"""

import sys

from partybot.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
