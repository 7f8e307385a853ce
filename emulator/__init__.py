"""A fake Telegram Bot API server for end-to-end tests of the bot.

Typical use::

    async with FakeTelegram() as fake:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        bot = Bot(fake.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
        user = fake.user(1001)
        await user.send_command("start")
        await fake.idle()                      # the bot has taken the update and gone quiet
        await user.press("Report")             # inline button, by text
        await fake.idle()
        assert "thank" in user.last_bot_message().text
        fake.assert_no_errors()                # nothing Telegram would have rejected
        await dispatcher.stop_polling()
        await polling
"""

from .actors import FakeGroup, FakeUser
from .models import CallbackAnswer, FakeMessage, FakeTopic, MessageEdit, RecordedRequest, StoredFile
from .server import FakeTelegram

__all__ = [
    "CallbackAnswer",
    "FakeGroup",
    "FakeMessage",
    "FakeTelegram",
    "FakeTopic",
    "FakeUser",
    "MessageEdit",
    "RecordedRequest",
    "StoredFile",
]
