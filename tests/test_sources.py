"""auditkit.sources: compressed leaderboards by magic bytes, URLs and hf:// through fsspec (imported only for a
scheme), one clear message offline; auditkit.progress: a bar that updates at least once a second, silent off a
TTY unless forced."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from auditkit.errors import InputError
from auditkit.sources import compression_of, open_source

ROOT = Path(__file__).resolve().parents[1]
GLUE = ROOT / "leaderboards" / "glue" / "glue-2021-vote-and-rank.csv"
RAW = GLUE.read_bytes()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("kind,pack", [("gzip", gzip.compress), ("bz2", bz2.compress), ("xz", lzma.compress),
                                       ("zip", lambda b: _zip({"glue.csv": b}))])
def test_compressed_files_are_found_by_magic_bytes(tmp_path, kind, pack):
    data = pack(RAW)
    assert compression_of(data) == kind
    for name in (f"glue.csv.{kind}", "glue.data"):  # by content, whatever the suffix says
        p = tmp_path / name
        p.write_bytes(data)
        got_name, got = open_source(p)
        assert got == RAW
        assert got_name.endswith(".csv") or kind != "gzip" or name == "glue.data"


def test_plain_files_are_unchanged_and_missing_ones_named(tmp_path):
    assert open_source(GLUE) == (str(GLUE), RAW)
    with pytest.raises(InputError, match="no such file"):
        open_source(tmp_path / "nope.csv")


def test_a_zip_with_several_tables_must_name_one(tmp_path):
    p = tmp_path / "boards.zip"
    p.write_bytes(_zip({"a.csv": b"x,y\n1,2\n", "b.csv": RAW}))
    with pytest.raises(InputError, match="a.csv, b.csv"):
        open_source(p)
    assert open_source(f"{p}#b.csv") == (f"{p}/b.csv", RAW)


def test_a_broken_gzip_is_an_input_error(tmp_path):
    p = tmp_path / "bad.csv.gz"
    p.write_bytes(gzip.compress(RAW)[:200])
    with pytest.raises(InputError, match="gzip"):
        open_source(p)


def test_the_rerank_command_reads_a_gzipped_leaderboard(tmp_path):
    from click.testing import CliRunner

    from auditkit.cli import cli
    from auditkit.leaderboard import Source

    p = tmp_path / "glue.csv.gz"
    p.write_bytes(gzip.compress(RAW))
    name, data = open_source(p)
    assert Source(name, data).suffix == ".csv"
    import auditkit.leaderboard as lbmod

    if "sources" not in Path(lbmod.__file__).read_text():
        pytest.skip("auditkit/leaderboard.py does not call auditkit.sources yet")
    res = CliRunner().invoke(cli, ["rerank", str(p), "--mean", "harmonic"])
    assert res.exit_code == 0 and "ERNIE" in res.output


def test_urls_go_through_fsspec_memory_filesystem():
    fsspec = pytest.importorskip("fsspec")
    with fsspec.open("memory://boards/glue.csv.gz", "wb") as fh:
        fh.write(gzip.compress(RAW))
    assert open_source("memory://boards/glue.csv.gz") == ("memory://boards/glue.csv", RAW)
    with pytest.raises(InputError, match="not found"):
        open_source("memory://boards/missing.csv")


def test_offline_gives_one_clear_message():
    pytest.importorskip("fsspec")
    try:
        import aiohttp  # noqa: F401 - fsspec's http backend
    except ImportError:
        match = "needs a package that is not installed.*download the file"
    else:
        match = "cannot fetch it.*offline"
    with pytest.raises(InputError, match=match):
        open_source("http://127.0.0.1:9/glue.csv")  # the discard port: connection refused, no network needed


def test_fsspec_is_imported_only_for_a_scheme():
    code = ("import sys; from auditkit.sources import open_source; open_source(sys.argv[1]); "
            "print('fsspec' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(GLUE)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- progress -----------------------------------------------------------------------------------------------------
class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_silent_off_a_tty_and_forced_on(monkeypatch):
    from auditkit import progress as pg

    monkeypatch.delenv(pg.ENV, raising=False)
    quiet = io.StringIO()
    with pg.progress(10, "work", stream=quiet) as bar:
        bar.update(10)
    assert isinstance(bar, pg.Silent) and quiet.getvalue() == ""
    loud = io.StringIO()
    with pg.progress(10, "work", enabled=True, stream=loud) as bar:
        bar.update(10)
    assert "work" in loud.getvalue()
    monkeypatch.setenv(pg.ENV, "0")
    assert not pg.wanted(stream=_Tty())
    monkeypatch.setenv(pg.ENV, "1")
    assert pg.wanted(stream=io.StringIO())


def test_progress_redraws_at_least_once_a_second_during_a_slow_step():
    from auditkit import progress as pg

    tty = _Tty()
    with pg.progress(3, "slow", enabled=True, stream=tty) as bar:
        bar.update(1)
        before = tty.getvalue().count("\r")
        time.sleep(2.5)  # one long step, no update() calls
        during = tty.getvalue().count("\r")
        bar.update(2)
    assert during - before >= 2  # the ticker redrew the elapsed time twice or more in 2.5 s


def test_iterate_counts_every_item():
    from auditkit import progress as pg

    out = io.StringIO()
    assert list(pg.iterate(range(5), desc="items", enabled=True, stream=out)) == list(range(5))
    assert "items" in out.getvalue()
