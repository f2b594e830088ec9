"""Entry point of the Telegram bot: `python bot.py` (same as `partybot bot`).

Settings come from the environment and `.env` (see .env.example): TELEGRAM_BOT_TOKEN, ADMIN_IDS,
TELEGRAM_BASE_URL for a self-hosted Bot API, TELEGRAM_WEBHOOK_URL for webhook mode.
"""

import sys

from partybot.cli import main

if __name__ == "__main__":
    sys.exit(main([*sys.argv[1:], "bot"]))  # e.g. `python bot.py -v`
