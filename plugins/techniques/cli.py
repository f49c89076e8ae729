"""``auditkit claims``, ``auditkit can`` and ``auditkit whiten``."""

from __future__ import annotations

import click

from auditkit.cli import FAIL_ON_OPTION, FORMAT_OPTION, OUTPUT_OPTION, emit_report


@click.command("claims")
@click.option("--run", "run_", is_flag=True, help="Measure every claim and report holds / fails.")
@click.option("--technique", "-t", "techniques", multiple=True, metavar="NAME",
              help="Only this technique (repeatable). Default: every technique of every plugin.")
@click.option("--skip-real-data", is_flag=True, help="Skip the claims checked on real data (they need scikit-learn).")
@FORMAT_OPTION
@OUTPUT_OPTION
@FAIL_ON_OPTION
def claims_command(run_, techniques, skip_real_data, fmt, output, fail_on):
    """List the published claims carried by technique records, or run them (--run).

    \b
    Examples:
      auditkit claims
      auditkit claims --run
      auditkit claims --run --technique can --format json
    """
    from .claims import list_claims, run_claims

    report = (run_claims(techniques, real_data=not skip_real_data) if run_ else list_claims(techniques))
    emit_report(report, fmt, output, fail_on)


@click.command("can")
@click.argument("probs", metavar="PROBS")
@click.option("--prior", required=True, metavar="PRIOR",
              help="Class prior: a file with one value per class (frequencies or counts) or 'uniform'.")
@click.option("--k", "k", default=3, show_default=True, type=int, help="Top-k for the entropy uncertainty.")
@click.option("--threshold", default=0.9, show_default=True, type=float,
              help="Doubtful when the top-k entropy is >= this.")
@click.option("--alpha", default=1.0, show_default=True, type=float, help="Power before each column normalization.")
@click.option("--iters", default=1, show_default=True, type=int, help="Alternating-normalization iterations.")
@click.option("--uncertainty", "mode", type=click.Choice(["su", "any-k"]), default="su", show_default=True,
              help="su: top-k entropy for k; any-k: official rule, doubtful if any top-j entropy (j=2..k) is high.")
@click.option("--labels", default=None, metavar="LABELS", help="True labels (one integer per row) to report accuracy.")
@click.option("--data-out", "out", default=None, type=click.Path(dir_okay=False),
              help="Write the corrected probabilities here (.npy, .npz, .csv).")
@click.option("-o", "--output", "--report", "report_path", default=None, type=click.Path(dir_okay=False),
              help="Write the report to this file instead of standard output (as on every command).")
@FORMAT_OPTION
@FAIL_ON_OPTION
def can_command(probs, prior, k, threshold, alpha, iters, mode, labels, out, report_path, fmt, fail_on):
    """Correct doubtful predictions with CAN (classification with alternating normalization).

    \b
    Example:
      auditkit can dev_probs.npy --prior train_prior.csv --labels dev_labels.csv --data-out dev_probs_can.npy
    """
    import numpy as np

    from auditkit.errors import InputError
    from auditkit.report import Finding, Report, provenance

    from auditkit.arrays import load_array, sha256_file, split_spec

    from . import _io
    from .can import can, validate_prior, validate_probs

    p = validate_probs(load_array(probs, what="probabilities"), name=f"probabilities file {probs!r}")
    n, m = p.shape
    inputs = {probs: sha256_file(split_spec(probs)[0])}
    if prior.strip().lower() == "uniform":
        q = validate_prior("uniform", m)
    else:
        q = validate_prior(load_array(prior, what="prior"), m, name=f"prior file {prior!r}")
        inputs[prior] = sha256_file(split_spec(prior)[0])
    y = None
    if labels is not None:
        y_raw = np.asarray(load_array(labels, what="labels")).reshape(-1)
        inputs[labels] = sha256_file(split_spec(labels)[0])
        if y_raw.shape[0] != n:
            raise InputError(f"labels file {labels!r} has {y_raw.shape[0]} labels but {probs!r} has {n} rows; "
                             "give one label per row")
        if np.any(y_raw != np.round(y_raw)) or y_raw.min() < 0 or y_raw.max() >= m:
            raise InputError(f"labels file {labels!r}: labels must be integers in [0, {m}) (class indices of the "
                             "probability columns)")
        y = y_raw.astype(np.int64)
    res = can(p, q, k=k, threshold=threshold, alpha=alpha, iters=iters, mode=mode, validate=False)
    changed = res.changed(p)
    summary = {"n_samples": n, "n_classes": m, "n_doubtful": res.n_doubtful, "n_changed": int(changed.sum()),
               **res.params}
    row = dict(summary)
    if y is not None:
        before = p.argmax(1) == y
        after = res.probs.argmax(1) == y
        d = res.doubtful
        summary.update({"accuracy_before": float(before.mean()), "accuracy_after": float(after.mean()),
                        "accuracy_confident": float(before[~d].mean()) if (~d).any() else None,
                        "accuracy_doubtful_before": float(before[d].mean()) if d.any() else None,
                        "accuracy_doubtful_after": float(after[d].mean()) if d.any() else None,
                        "n_fixed": int((~before & after).sum()), "n_broken": int((before & ~after).sum())})
        row.update({k2: summary[k2] for k2 in ("accuracy_before", "accuracy_after", "n_fixed", "n_broken")})
    if out is not None:
        _io.save_array(out, res.probs, name="probs")
        summary["output"] = out
    msg = f"CAN changed {int(changed.sum())} of {n} predictions ({res.n_doubtful} doubtful)"
    if y is not None:
        msg += f"; accuracy {summary['accuracy_before']:.4f} -> {summary['accuracy_after']:.4f}"
    report = Report(title="auditkit can", findings=[Finding("can", "info", msg, evidence=summary)],
                    summary=summary, tables={"can": [row]},
                    provenance=provenance(inputs=inputs, technique="can", **res.params))
    emit_report(report, fmt, report_path, fail_on)


@click.command("whiten")
@click.argument("emb", metavar="EMB")
@click.option("--dim", "k", default=None, type=int, help="Keep this many whitened dimensions (default: all).")
@click.option("--data-out", "out", required=True, type=click.Path(dir_okay=False),
              help="Write the whitened embeddings here (.npy, .npz, .csv).")
@click.option("--normalize/--no-normalize", default=False, show_default=True,
              help="L2-normalize the whitened rows (what the official code does before cosine similarity).")
@click.option("--chunk-rows", default=65536, show_default=True, type=int,
              help="Rows per chunk for the streaming fit and transform (.npy inputs are memory-mapped).")
@click.option("--save-params", default=None, type=click.Path(dir_okay=False),
              help="Also write mean and W (kernel) to this .npz, as mean/kernel/bias.")
@click.option("-o", "--output", "--report", "report_path", default=None, type=click.Path(dir_okay=False),
              help="Write the report to this file instead of standard output (as on every command).")
@FORMAT_OPTION
@FAIL_ON_OPTION
def whiten_command(emb, k, out, normalize, chunk_rows, save_params, report_path, fmt, fail_on):
    """Whiten embeddings (BERT-whitening): y = (x - mu) U Lambda^{-1/2}, truncated to --dim dimensions.

    \b
    Example:
      auditkit whiten sentence_vectors.npy --dim 256 --data-out sentence_vectors_white.npy
    """
    import io

    import numpy as np

    from auditkit.cli import write_atomic
    from auditkit.errors import UsageError
    from auditkit.report import Finding, Report, provenance

    from auditkit.arrays import load_array, sha256_file, split_spec

    from . import _io
    from .whitening import Whitening

    if chunk_rows < 1:
        raise UsageError(f"--chunk-rows must be positive (got {chunk_rows})")
    x = load_array(emb, what="embeddings", mmap=True)
    if x.ndim != 2:
        raise UsageError(f"embeddings file {emb!r}: expected a 2-D array (rows = samples), got shape {x.shape}")
    if k is not None and not 1 <= k <= x.shape[1]:
        raise UsageError(f"--dim {k} must be between 1 and the embedding dimension {x.shape[1]}")
    w = Whitening(n_components=k, normalize=normalize)
    chunks = [x[i:i + chunk_rows] for i in range(0, x.shape[0], chunk_rows)]
    w.fit_stream(chunks)
    y = np.concatenate([w.transform(c) for c in chunks], axis=0)
    _io.save_array(out, y, name="embeddings")
    if save_params:
        buf = io.BytesIO()
        np.savez(buf, mean=w.mean_, kernel=w.components_, bias=-w.mean_[None, :])
        write_atomic(save_params, buf.getvalue())
    s = w.singular_values_
    kk = w.components_.shape[1]
    summary = {"n_samples": int(x.shape[0]), "input_dim": int(x.shape[1]), "output_dim": int(kk),
               "explained_variance": float(s[:kk].sum() / s.sum()), "normalized": normalize, "output": out}
    if not normalize and x.shape[0] > 1:
        summary["max_abs_cov_minus_identity"] = float(np.max(np.abs(np.atleast_2d(np.cov(y.T)) - np.eye(kk))))
    msg = (f"whitened {x.shape[0]} x {x.shape[1]} embeddings to {kk} dimensions "
           f"({100 * summary['explained_variance']:.1f}% of the variance kept)")
    report = Report(title="auditkit whiten", findings=[Finding("whiten", "info", msg, evidence=summary)],
                    summary=summary, tables={"whiten": [summary]},
                    provenance=provenance(inputs={emb: sha256_file(split_spec(emb)[0])}, technique="bert-whitening",
                                          dim=k))
    emit_report(report, fmt, report_path, fail_on)
