from bot.adapters.console import ConsoleAdapter


async def test_suggest_then_vote(console: ConsoleAdapter) -> None:
    await console.handle_line("/as alice fan")
    out = await console.handle_line('/suggest "Dark mode for the app" "Too bright at night"')
    assert out[0].to == "channel"
    assert "#1 Dark mode for the app" in out[0].reply.plain_text()
    await console.handle_line("/as bob fan")
    out = await console.handle_line("!1")
    assert "votes now: 2" in out[0].reply.plain_text()
