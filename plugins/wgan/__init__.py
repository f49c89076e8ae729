"""auditkit's WGAN plugin: gradient-normalised critics (GN-GAN, GraN-GAN), exact W1, and ``auditkit wgan``.

Modules (import them only where needed; torch is optional for auditkit and required here):

- :mod:`.w1`: exact Wasserstein-1 between samples (1-D closed form, linear_sum_assignment, POT ``ot.emd2``);
- :mod:`.critics`: GN / GraN critic wrappers with double backprop and the gradient-hook fast path (torch);
- :mod:`.evaluate`: ``auditkit wgan evaluate`` and the ``wgan-critic`` diagnostic;
- :mod:`.study`: ``auditkit wgan study``, a small reproducible WGAN training study (GN, GraN, GP).

Importing this package is cheap: no torch, scipy or matplotlib at module level.
"""

from __future__ import annotations

import click

import auditkit
from auditkit.cli import FAIL_ON_OPTION, FORMAT_OPTION, OUTPUT_OPTION


def _run_diagnostic(*args, **kwargs):
    from .evaluate import run_diagnostic

    return run_diagnostic(*args, **kwargs)


@auditkit.hookimpl
def auditkit_register_diagnostics():
    return [auditkit.Diagnostic(
        name="wgan-critic",
        run=_run_diagnostic,
        description="WGAN critic vs exact W1: KR estimate, exact W1, gap, gradient norms, empirical Lipschitz "
                    "ratio (random pairs and adversarial), GN saturation. run(critic, real, fake, "
                    "normalization='none'|'gn'|'gran', ...) -> Report",
        requires=("torch", "scipy"),
    )]


@auditkit.hookimpl
def auditkit_register_techniques():
    """The plugin's own claims: GN, GraN, exact W1 and what the evaluation asserts."""
    from .claims import TECHNIQUES

    return list(TECHNIQUES)


@auditkit.hookimpl
def auditkit_register_commands(cli):
    cli.add_command(wgan_group)


@click.group("wgan")
def wgan_group():
    """Evaluate WGAN critics against the exact Wasserstein-1 distance, and run a small training study.

    \b
    Examples:
      auditkit wgan evaluate --critic mycritics:make_critic --weights critic.pt \\
          --real real.npy --fake fake.npy --normalization gn --format json
      auditkit wgan study --quick --out study-out
    """


@wgan_group.command("evaluate")
@click.option("--critic", "critic_spec", required=True, metavar="MODULE:FACTORY",
              help="Importable factory returning the critic (torch.nn.Module), e.g. mycritics:make_critic or "
                   "path/to/file.py:make_critic. Called with no arguments.")
@click.option("--weights", type=click.Path(dir_okay=False), default=None,
              help="State dict (.pt via torch.load(weights_only=True), or .safetensors).")
@click.option("--real", "real_path", required=True, metavar="FILE",
              help="Real samples: .npy, .pt or .safetensors, shape (n, ...) in the critic's input shape "
                   "(FILE#KEY picks one tensor of several).")
@click.option("--fake", "fake_path", required=True, metavar="FILE", help="Fake samples, same formats and shape.")
@click.option("--normalization", type=click.Choice(["none", "gn", "gran"]), default="none", show_default=True,
              help="Wrap the raw critic in GN (f/(‖∇f‖+|f|)) or GraN (k·f·‖∇f‖/(‖∇f‖²+ε)); 'none' uses it as is.")
@click.option("--eps", type=float, default=None, help="GraN ε (default 1e-4; unverified against the paper).")
@click.option("--k", "k", type=float, default=1.0, show_default=True,
              help="GraN multiplier (unverified against the paper).")
@click.option("--lipschitz", type=float, default=1.0, show_default=True, help="The Lipschitz bound L to test.")
@click.option("--tol", type=float, default=1e-6, show_default=True,
              help="Relative tolerance for |KR| > L·W1 and for ratios > L.")
@click.option("--pairs", "n_pairs", type=int, default=4096, show_default=True,
              help="Random pairs for the empirical Lipschitz ratio.")
@click.option("--adv-steps", type=int, default=100, show_default=True,
              help="Steps of the adversarial search for a larger ratio (0 turns it off).")
@click.option("--max-samples", type=int, default=4096, show_default=True,
              help="Use at most this many points per sample (seeded subsample; exact W1 is O(n³)).")
@click.option("--w1-method", type=click.Choice(["auto", "assignment", "emd", "1d"]), default="auto",
              show_default=True, help="Exact W1 solver: auto = 1-D closed form, linear_sum_assignment for equal "
                                      "sizes, POT ot.emd2 otherwise.")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda[:i].")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@FORMAT_OPTION
@OUTPUT_OPTION
@FAIL_ON_OPTION
def evaluate_command(critic_spec, weights, real_path, fake_path, normalization, eps, k, lipschitz, tol, n_pairs,
                     adv_steps, max_samples, w1_method, device, dtype, seed, fmt, output, fail_on):
    """Compare a critic's Kantorovich-Rubinstein estimate with the exact W1 between the same samples.

    Reports critic_w1, exact_w1, their gap and ratio, the real-split W1 baseline, gradient norms on real, fake
    and interpolated points, the empirical Lipschitz ratio (random pairs and adversarial search) and whether a GN
    critic is saturated. Exit 1 when a finding reaches --fail-on (an error means a Lipschitz breach is proven).
    """
    from auditkit.cli import emit_report
    from auditkit.report import provenance

    from .evaluate import build_critic, evaluate_critic, load_samples

    if n_pairs < 1 or adv_steps < 0 or max_samples < 2:
        raise auditkit.UsageError("--pairs must be ≥ 1, --adv-steps ≥ 0 and --max-samples ≥ 2")
    real, real_sha = load_samples(real_path, "--real")
    fake, fake_sha = load_samples(fake_path, "--fake")
    critic, weights_sha = build_critic(critic_spec, weights)
    inputs = {"real": real_sha, "fake": fake_sha}
    if weights_sha:
        inputs["weights"] = weights_sha
    prov = provenance(inputs=inputs, critic=critic_spec, normalization=normalization, seed=seed, device=device,
                      dtype=dtype, w1_method=w1_method)
    report = evaluate_critic(critic, real, fake, normalization=normalization, eps=eps, k=k, lipschitz=lipschitz,
                             tol=tol, n_pairs=n_pairs, adv_steps=adv_steps, max_samples=max_samples, seed=seed,
                             device=device, dtype=dtype, w1_method=w1_method, provenance=prov)
    emit_report(report, fmt, output, fail_on)


@wgan_group.command("study")
@click.option("--quick", is_flag=True, help="Reduced form for CI (a few seconds per run on 2 CPU cores).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write curves.csv, curves.json and plots (PNG) into this directory.")
@click.option("--datasets", default="gmm,digits", show_default=True,
              help="Comma-separated: gmm (2-D mixture of 8 Gaussians), digits (scikit-learn 8×8 digits).")
@click.option("--methods", default="gn,gran,gp", show_default=True,
              help="Comma-separated: gn, gran, gp (WGAN-GP, λ = 10).")
@click.option("--steps", type=int, default=None, help="Generator steps (default 1500, quick 120).")
@click.option("--loss", type=click.Choice(["wasserstein", "hinge"]), default="wasserstein", show_default=True,
              help="Loss on the (normalised) critic; the generator maximises mean f̂(fake) either way.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-plots", is_flag=True, help="Skip the plots (no matplotlib needed).")
@FORMAT_OPTION
@OUTPUT_OPTION
@FAIL_ON_OPTION
def study_command(quick, out_dir, datasets, methods, steps, loss, seed, no_plots, fmt, output, fail_on):
    """Train WGANs with GN, GraN and gradient penalty and track the critic's estimate against exact minibatch W1.

    Seeded and CPU-only; --quick is the reduced form used in CI.
    """
    from auditkit.cli import emit_report

    from .study import run_study

    report = run_study(datasets=[d.strip() for d in datasets.split(",") if d.strip()],
                       methods=[m.strip() for m in methods.split(",") if m.strip()],
                       quick=quick, steps=steps, seed=seed, out_dir=out_dir, plots=not no_plots,
                       loss=loss)
    emit_report(report, fmt, output, fail_on)
