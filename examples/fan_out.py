"""Many conversations in one event loop: each client is its own Claude Code process."""

import asyncio

from claude_chat import AsyncChatClient

QUESTIONS = ["What is a monad?", "Explain CRDTs in one paragraph.", "What does fsync do?"]


async def answer(question: str) -> str:
    async with AsyncChatClient(model="haiku") as chat:
        result = await chat.ask(question)
        return result.answer


async def main() -> None:
    answers = await asyncio.gather(*(answer(q) for q in QUESTIONS))
    for question, text in zip(QUESTIONS, answers, strict=True):
        print(f"## {question}\n{text}\n")


asyncio.run(main())
