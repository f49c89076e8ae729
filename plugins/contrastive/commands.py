"""``auditkit contrastive diagnose``: the click commands. torch and matplotlib are imported only when a command
runs, so ``auditkit --help`` stays fast."""

from __future__ import annotations

from pathlib import Path

import click

from auditkit.cli import FAIL_ON_OPTION, FORMAT_OPTION, OUTPUT_OPTION, emit_report, write_atomic
from auditkit.errors import UsageError

PLOT_FORMATS = {".png": "png", ".svg": "svg"}


def _floats(value: str, option: str) -> list[float]:
    try:
        out = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{option} must be a comma-separated list of numbers, got {value!r}") from None
    if not out:
        raise UsageError(f"{option} is empty")
    return out


def _ints(value: str, option: str) -> list[int]:
    try:
        out = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{option} must be a comma-separated list of integers, got {value!r}") from None
    if not out:
        raise UsageError(f"{option} is empty")
    return out


@click.group("contrastive")
def contrastive_group():
    """Contrastive-loss diagnostics: InfoNCE float-precision underflow and FlatNCE (needs torch)."""


@contrastive_group.command("diagnose")
@click.argument("scores", required=False, type=click.Path(dir_okay=False))
@click.option("--positive-index", type=int, default=None,
              help="The positive's column, the same for every row (e.g. 0 for FlatCLR's [pos | negs] layout).")
@click.option("--positives", "positives_file", type=click.Path(dir_okay=False), default=None,
              help="File with an integer vector: the positive's column for each row.")
@click.option("--z1", type=click.Path(dir_okay=False), default=None,
              help="Anchor embeddings (rows); with --z2, scores are cos(z1_i, z2_j)/T and row i pairs with column i.")
@click.option("--z2", type=click.Path(dir_okay=False), default=None, help="Candidate embeddings paired with --z1.")
@click.option("--temperature", type=float, default=None,
              help="Embeddings: cos/T (default 0.1). Scores: the given logits are divided by T (default 1).")
@click.option("--dtypes", default="float16,bfloat16,float32", show_default=True,
              help="Precisions to test, comma-separated (float16, bfloat16, float32, float64).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--sweep", is_flag=True, help="Also map the danger zone over temperature x batch size.")
@click.option("--sweep-temperatures", default="0.02,0.05,0.07,0.1,0.2,0.5,1", show_default=True)
@click.option("--sweep-batch-sizes", default="16,64,256,1024,4096", show_default=True,
              help="Batch sizes (candidates per row); those larger than the data are dropped.")
@click.option("--sweep-rows", type=int, default=512, show_default=True, help="Rows measured per sweep cell.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write the sweep heatmap to this .png or .svg file (needs --sweep and matplotlib).")
@FORMAT_OPTION
@OUTPUT_OPTION
@FAIL_ON_OPTION
def diagnose_command(scores, positive_index, positives_file, z1, z2, temperature, dtypes, device, sweep,
                     sweep_temperatures, sweep_batch_sizes, sweep_rows, plot, fmt, output, fail_on):
    """Does InfoNCE's 1 + xi round to 1 in your training precision, and what does it cost?

    SCORES is a score (logit) matrix, rows = anchors, columns = candidates (.npy, .npz, .pt/.pth, .safetensors,
    .csv/.tsv/.txt; FILE#KEY picks one array of several), or a .npz/.pt/.safetensors holding embeddings named z1 and
    z2. Exit code 1 when a finding reaches --fail-on.

    \b
    Examples:
      auditkit contrastive diagnose scores.npy --positive-index 0
      auditkit contrastive diagnose pairs.npz --temperature 0.05 --sweep --plot zone.png
    """
    from .diagnose import parse_dtypes, run_diagnostic
    from auditkit.arrays import load_arrays, sha256_file, split_spec

    from .loading import load_matrix, load_positives, select_matrix

    dtypes = parse_dtypes(dtypes)
    if positive_index is not None and positives_file is not None:
        raise UsageError("give either --positive-index or --positives, not both")
    if (z1 is None) != (z2 is None):
        raise UsageError("--z1 and --z2 go together; give both")
    if z1 is not None and scores is not None:
        raise UsageError("give either SCORES or --z1/--z2, not both")
    if scores is None and z1 is None:
        raise UsageError("give a SCORES file, or embeddings with --z1 FILE --z2 FILE; see --help")
    plot_format = None
    if plot is not None:
        if not sweep:
            raise UsageError("--plot draws the --sweep heatmap; add --sweep")
        plot_format = PLOT_FORMATS.get(Path(plot).suffix.lower())
        if plot_format is None:
            raise UsageError(f"--plot {plot!r}: use a .png or .svg file name")
    elif sweep and fmt == "html":
        plot_format = "png"
    temps = _floats(sweep_temperatures, "--sweep-temperatures")
    sizes = _ints(sweep_batch_sizes, "--sweep-batch-sizes")
    inputs, kwargs = {}, {}
    if z1 is not None:
        kwargs["z1"] = load_matrix(z1, what="embedding matrix")
        kwargs["z2"] = load_matrix(z2, what="embedding matrix")
        inputs = {"z1": sha256_file(split_spec(z1)[0]), "z2": sha256_file(split_spec(z2)[0])}
    else:
        path, key = split_spec(scores)
        arrays = load_arrays(path, what="score matrix")
        inputs["scores"] = sha256_file(path)
        if key is None and "z1" in arrays and "z2" in arrays:
            kwargs["z1"] = select_matrix(arrays, path, "z1", what="embedding matrix")
            kwargs["z2"] = select_matrix(arrays, path, "z2", what="embedding matrix")
        else:
            kwargs["scores"] = select_matrix(arrays, path, key)
    if "scores" in kwargs:
        if positives_file is not None:
            n, k = kwargs["scores"].shape
            kwargs["positives"] = load_positives(positives_file, n, k)
            inputs["positives"] = sha256_file(split_spec(positives_file)[0])
        elif positive_index is not None:
            kwargs["positives"] = positive_index
    elif positive_index is not None or positives_file is not None:
        raise UsageError("with embeddings z1/z2 the positive of row i is column i; drop --positive-index/--positives")
    report = run_diagnostic(**kwargs, temperature=temperature, dtypes=dtypes, device=device, do_sweep=sweep,
                            sweep_temperatures=temps, sweep_batch_sizes=sizes, sweep_rows=sweep_rows,
                            plot_format=plot_format, inputs=inputs)
    if plot is not None:
        (_mime, data), = report.images.values()
        write_atomic(plot, data)
    emit_report(report, fmt, output, fail_on)
