"""The safe writer (auditkit.output): what -o may and may not do to the file system.

The real /dev/null is never written: device semantics are checked on a FIFO made here and, for the character
device, by checking which write strategy the writer picks for ``os.devnull`` (with both strategies replaced)."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit import output
from auditkit.cli import cli, emit
from auditkit.errors import AuditkitError, InputError, UsageError
from auditkit.output import guard_outputs, write_output

ROOT = Path(__file__).resolve().parents[1]
GLUE = ROOT / "leaderboards" / "glue" / "glue-2021-vote-and-rank.csv"


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(output.TMP_PREFIX))


def test_new_file_gets_umask_mode_and_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    write_output(target, "hello\n")
    assert target.read_text() == "hello\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert leftovers(tmp_path) == []


def test_existing_0600_file_keeps_its_mode(tmp_path):
    target = tmp_path / "secret.json"
    target.write_text("old")
    target.chmod(0o600)
    write_output(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_symlink_stays_a_link_and_its_target_is_written(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_output(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"
    assert leftovers(tmp_path) == []


def test_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    write_output(fifo, b"through the pipe")
    reader.join(10)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a FIFO, not a regular file put in its place
    assert leftovers(tmp_path) == []


def test_character_device_is_written_through(monkeypatch):
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)  # read-only check of the real device
    chosen = []
    monkeypatch.setattr(output, "_write_through", lambda path, target, data, **kw: chosen.append("through"))
    monkeypatch.setattr(output, "_replace_atomically", lambda *a: chosen.append("replace"))
    write_output(os.devnull, b"x")
    assert chosen == ["through"]


WRITE_DEV_STDOUT = "from auditkit.output import write_output; write_output('/dev/stdout', b'new\\n')"


def test_dev_stdout_into_a_pipe_is_written_through():
    out = subprocess.run([sys.executable, "-c", WRITE_DEV_STDOUT], cwd=ROOT, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"new\n"


def test_dev_stdout_appended_to_a_file_keeps_its_content(tmp_path):
    """`-o /dev/stdout >> log`: the log is appended to, not replaced (its inode stays) and not truncated."""
    log = tmp_path / "log.txt"
    log.write_text("old\n")
    inode = log.stat().st_ino
    with open(log, "ab") as fh:
        out = subprocess.run([sys.executable, "-c", WRITE_DEV_STDOUT], cwd=ROOT, stdout=fh,
                             stderr=subprocess.PIPE, timeout=60)
    assert out.returncode == 0, out.stderr
    assert log.read_text() == "old\nnew\n" and log.stat().st_ino == inode
    assert leftovers(tmp_path) == []


def test_dash_writes_stdout_and_creates_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["rerank", str(GLUE), "--format", "csv", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("system") or "," in result.output.splitlines()[0]
    assert not (tmp_path / "-").exists()


def test_output_equal_to_input_is_refused_and_input_kept(tmp_path):
    src = tmp_path / "glue.csv"
    src.write_bytes(GLUE.read_bytes())
    result = CliRunner().invoke(cli, ["rerank", str(src), "-o", str(src)])
    assert result.exit_code == 2
    assert "is the input" in result.output and str(src) in result.output
    assert src.read_bytes() == GLUE.read_bytes()


def test_output_equal_to_input_through_a_symlink_is_refused(tmp_path):
    src = tmp_path / "glue.csv"
    src.write_bytes(GLUE.read_bytes())
    (tmp_path / "alias.csv").symlink_to(src)
    with pytest.raises(UsageError, match="is the input"):
        write_output(tmp_path / "alias.csv", "x", inputs=[str(src)])
    assert src.read_bytes() == GLUE.read_bytes()


def test_two_outputs_of_one_run_must_differ(tmp_path):
    with pytest.raises(UsageError, match="are the same file"):
        guard_outputs([tmp_path / "a.json", tmp_path / "sub" / ".." / "a.json"])
    guard_outputs([tmp_path / "a.json", tmp_path / "b.json"], [GLUE])  # distinct paths pass


def test_emit_infers_inputs_from_the_command_line(tmp_path):
    """A plugin command that calls emit(text, output) gets the guard without listing its inputs."""
    import click

    @click.command()
    @click.argument("file")
    @click.option("-o", "--output", type=click.Path(dir_okay=False))
    @click.option("--report", type=click.Path(dir_okay=False))
    def cmd(file, output, report):
        emit("text", output)

    src = tmp_path / "in.csv"
    src.write_text("keep")
    runner = CliRunner()
    assert "is the input" in str(runner.invoke(cmd, [str(src), "-o", str(src)]).exception)
    same = str(tmp_path / "x")
    assert isinstance(runner.invoke(cmd, [str(src), "-o", same, "--report", same]).exception, UsageError)
    assert runner.invoke(cmd, [str(src), "-o", str(tmp_path / "y")]).exit_code == 0
    assert src.read_text() == "keep"


def test_an_option_value_equal_to_the_output_name_is_not_an_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["rerank", str(GLUE), "--format", "csv", "-o", "csv"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "csv").read_text().startswith("system")


@pytest.mark.parametrize("case", ["missing-dir", "unwritable-dir", "directory", "enospc"])
def test_os_errors_become_exit_2_naming_path_and_reason(tmp_path, monkeypatch, case):
    if case == "missing-dir":
        target, reason = tmp_path / "nope" / "out.csv", "does not exist"
    elif case == "unwritable-dir":
        def denied(**kw):  # a 0500 directory does not stop root, so the refusal is simulated at mkstemp
            raise PermissionError(errno.EACCES, "Permission denied")
        monkeypatch.setattr(output.tempfile, "mkstemp", denied)
        target, reason = tmp_path / "out.csv", "permission denied"
    elif case == "directory":
        target, reason = tmp_path, "is a directory"
    else:
        def full(fd):
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(os, "fsync", full)
        target, reason = tmp_path / "out.csv", "no space left"
    result = CliRunner().invoke(cli, ["rerank", str(GLUE), "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert str(target) in result.output and reason in result.output
    assert leftovers(target.parent if target.parent.exists() else tmp_path) == []


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("old")

    def boom(*a):
        raise OSError(errno.EIO, "I/O error")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(InputError, match="I/O error"):
        write_output(target, "new")
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_signal_mid_write_leaves_no_temp_file(tmp_path, signame):
    """A child process stalls inside the write (after the temporary file exists) and is signalled."""
    target = tmp_path / "out.csv"
    target.write_text("old")
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import os, time
        from auditkit import output
        def slow(fd):
            open({str(ready)!r}, "w").close()
            time.sleep(60)
        os.fsync = slow
        output.write_output({str(target)!r}, b"new" * 1000)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.PIPE)
    for _ in range(600):
        if ready.exists():
            break
        time.sleep(0.05)
    assert ready.exists(), proc.stderr.read() if proc.poll() is not None else "child did not reach the write"
    assert leftovers(tmp_path), "the temporary file should exist while the write is in progress"
    proc.send_signal(getattr(signal, signame))
    proc.wait(30)
    assert proc.returncode != 0
    assert leftovers(tmp_path) == []
    assert target.read_text() == "old"


def test_errors_are_auditkit_errors():
    assert issubclass(InputError, AuditkitError) and InputError.exit_code == 2


# -- escaping: CSV formulas (OWASP), HTML in Markdown, escape sequences in the terminal ---------------------------
PAYLOADS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tTAB", "\rCR"]


def _csv_cells(text):
    import csv
    import io

    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_neutralizes_formula_cells_and_keeps_numbers():
    from auditkit.report import csv_text

    rows = [{"system": p, "score": -1.5, "text_number": "-1.5", "missing": "-"} for p in PAYLOADS]
    got = _csv_cells(csv_text(rows))
    assert [r[0] for r in got[1:]] == ["'" + p.replace("\r", "\n") for p in PAYLOADS]
    assert len(got) == len(PAYLOADS) + 1  # a carriage return cannot break a row
    assert all(r[1] == "-1.5" and r[2] == "-1.5" and r[3] == "-" for r in got[1:])
    assert _csv_cells(csv_text([{"=1+1": 1}]))[0] == ["'=1+1"]  # a header from the input is data too


def test_markdown_escapes_html_and_pipes():
    from auditkit.report import markdown_table

    text = markdown_table([{"system": "<script>alert(1)</script>"}, {"system": "<img src=x onerror=alert(1)>"},
                           {"system": "a|b"}])
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "| a\\|b |" in text


def test_text_table_strips_terminal_escapes():
    from auditkit.report import text_table

    evil = "\x1b]8;;http://evil\x07click\x1b]8;;\x07 \x1b[31mred\x1b[0m\x07\u202egnp.exe"
    text = text_table([{"system": evil, "score": 1.0}])
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "click red" in text and "gnp.exe" in text


def test_html_stays_escaped():
    from auditkit.report import html_table

    assert "&lt;script&gt;" in html_table([{"system": "<script>"}]) and "<script>" not in html_table(
        [{"system": "<script>"}])


@pytest.mark.parametrize("fmt", ["csv", "markdown", "table"])
def test_rerank_output_is_escaped_end_to_end(tmp_path, fmt):
    src = tmp_path / "inj.csv"
    src.write_text('System,A,B\n"=HYPERLINK(""http://evil"",""x"")",80,70\n<script>alert(1)</script>,70,60\n'
                   '"\x1b]8;;http://x\x07evil\x1b[31m",60,50\n')
    result = CliRunner().invoke(cli, ["rerank", str(src), "--format", fmt])
    assert result.exit_code == 0, result.output
    out = result.output
    if fmt == "csv":
        assert "'=HYPERLINK" in out and "\n=HYPERLINK" not in out and '"=HYPERLINK' not in out
    elif fmt == "markdown":
        assert "<script>" not in out and "&lt;script&gt;" in out
    else:
        ranking = out.split("\n\n")[1] if "\n\n" in out else out
        assert "\x1b" not in ranking and "\x07" not in ranking
