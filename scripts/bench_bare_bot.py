"""A bare aiogram 3 bot with the questionnaire's shape, for scripts/bench_updates.py to compare against.

MemoryStorage, no database, no middlewares of its own. Like Kua's report window: /start answers
with a message with buttons; every button press is answered (answerCallbackQuery), the answer
is stored in the FSM data, the state moves on and the window is edited with the next question.

    python scripts/bench_bare_bot.py TOKEN API_BASE
"""

from __future__ import annotations

import asyncio
import sys

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message


class Report(StatesGroup):
    question = State()


def keyboard(step: int) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(text=f"Answer {n}", callback_data=f"a:{step}:{n}") for n in range(3)]
    return InlineKeyboardMarkup(inline_keyboard=[row, [InlineKeyboardButton(text="Back", callback_data="b")]])


async def start(message: Message, state: FSMContext) -> None:
    await state.set_state(Report.question)
    await state.set_data({"answers": {}, "step": 0})
    await message.answer("Question 0", reply_markup=keyboard(0))


async def press(query: CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    step = int(data.get("step", 0)) + 1
    answers = dict(data.get("answers", {}))
    answers[str(step)] = query.data
    await state.update_data(answers=answers, step=step)
    await state.set_state(Report.question)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(f"Question {step}", reply_markup=keyboard(step))


async def text(message: Message, state: FSMContext) -> None:
    await state.update_data(text=message.text)
    await message.answer("Thank you", reply_markup=keyboard(0))


async def main(token: str, api_base: str) -> None:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    dp = Dispatcher(storage=MemoryStorage())
    dp.message.register(start, CommandStart())
    dp.callback_query.register(press, F.data)
    dp.message.register(text)
    await dp.start_polling(bot, handle_signals=True, polling_timeout=30)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
