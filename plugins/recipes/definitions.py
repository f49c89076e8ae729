"""The recipe definitions. Correlation tasks declare the range [-100, 100] so ``--negatives rescale`` can map them."""

from __future__ import annotations

from auditkit.records import Recipe, TaskSpec as T

CORRELATION = (-100.0, 100.0)

GLUE = Recipe(
    name="glue", version="1.0", title="GLUE",
    tasks=(
        T("CoLA", ("MCC",), value_range=CORRELATION, description="Matthews correlation x100"),
        T("SST-2", ("Acc",)),
        T("MRPC", ("F1", "Acc")),
        T("STS-B", ("Pearson", "Spearman"), value_range=CORRELATION),
        T("QQP", ("F1", "Acc")),
        T("MNLI", ("m", "mm"), columns=("MNLI-m", "MNLI-mm"), description="matched and mismatched averaged"),
        T("QNLI", ("Acc",)),
        T("RTE", ("Acc",)),
        T("WNLI", ("Acc",)),
        T("AX", ("R3",), value_range=CORRELATION, diagnostic=True, description="diagnostic, not in the Score"),
    ),
    published_score=("score",), reference=r"\bhuman", nan_in_composite="zero",
    source="Wang et al., GLUE, ICLR 2019 (arXiv 1804.07461) s3.4; leaderboard Score verified on three snapshots",
    description="Score = unweighted mean of 9 tasks; pairs averaged; MNLI-m/mm averaged into one task; WNLI in; "
                "AX out; a NaN inside a pair scores the task 0 (as the GLUE server did)",
)

SUPERGLUE = Recipe(
    name="superglue", version="1.0", title="SuperGLUE",
    tasks=(
        T("BoolQ", ("Acc",)),
        T("CB", ("F1", "Acc")),
        T("COPA", ("Acc",)),
        T("MultiRC", ("F1a", "EM")),
        T("ReCoRD", ("F1", "EM")),
        T("RTE", ("Acc",)),
        T("WiC", ("Acc",)),
        T("WSC", ("Acc",)),
        T("AX-b", ("MCC",), value_range=CORRELATION, diagnostic=True, description="broad-coverage diagnostic"),
        T("AX-g", ("parity", "accuracy"), split={"AX-g-b": "parity", "AX-g-a": "accuracy"}, diagnostic=True,
          description="Winogender diagnostic: gender parity / accuracy"),
    ),
    published_score=("score",), reference=r"\bhuman", nan_in_composite="zero",
    source="Wang et al., SuperGLUE, NeurIPS 2019 (arXiv 1905.00537) s3.3",
    description="Score = unweighted mean of 8 tasks; CB, MultiRC, ReCoRD pairs averaged; AX-b and AX-g excluded",
)

XTREME = Recipe(
    name="xtreme", version="1.0", title="XTREME (category level)",
    tasks=(
        T("Classification", weight=2, description="XNLI, PAWS-X"),
        T("Structured Prediction", weight=2, description="POS, NER"),
        T("Question Answering", weight=3, description="XQuAD, MLQA, TyDiQA-GoldP"),
        T("Sentence Retrieval", weight=2, description="BUCC, Tatoeba"),
    ),
    published_score=("score",), reference=r"\bhuman",
    source="Hu et al., XTREME, ICML 2020 (arXiv 2003.11080): Score is the mean over the 9 tasks",
    description="Score = mean over 9 tasks = category means weighted by their task counts (2, 2, 3, 2) / 9",
)

XGLUE_UNDERSTANDING = Recipe(
    name="xglue-understanding", version="1.0", title="XGLUE understanding",
    tasks=tuple(T(n) for n in ("NER", "POS", "NC", "MLQA", "XNLI", "PAWS-X", "QADSM", "WPR", "QAM")),
    published_score=(r"xglue-understanding score", r"score"), reference=r"\bhuman",
    source="Liang et al., XGLUE (arXiv 2004.01401); leaderboard microsoft.github.io/XGLUE",
    description="Understanding Score = mean of tasks 1-9",
)

XGLUE_UNIQUE = Recipe(
    name="xglue-unique", version="1.0", title="XGLUE unique tasks",
    tasks=tuple(T(n) for n in ("NC", "QADSM", "WPR", "QAM")),
    published_score=(r"xglue unique score", r"score"), reference=r"\bhuman",
    source="XGLUE leaderboard page (unique-task sub-leaderboard)", description="Unique Score = mean of NC, QADSM, WPR, QAM",
)

XGLUE_GENERATION = Recipe(
    name="xglue-generation", version="1.0", title="XGLUE generation",
    tasks=(T("QG", value_range=(0.0, 100.0)), T("NTG", value_range=(0.0, 100.0))),
    published_score=(r"xglue-generation score", r"score"), reference=r"\bhuman",
    source="XGLUE leaderboard page", description="Generation Score = mean of QG and NTG (BLEU-4 / ROUGE-L)",
)

_CIDER = (0.0, 1000.0)
VALUE = Recipe(
    name="value", version="1.0", title="VALUE (video-and-language)",
    tasks=(T("TVR"), T("How2R"), T("YC2R"), T("VATEX-EN-R"), T("TVQA"), T("How2QA"), T("VIOLIN"), T("VLEP"),
           T("TVC", value_range=_CIDER), T("YC2C", value_range=_CIDER), T("VATEX-EN-C", value_range=_CIDER)),
    published_score=(r"meta-ave", r"score"), reference=r"\bhuman",
    source="Li et al., VALUE, NeurIPS 2021 Datasets and Benchmarks; Meta-Ave checked on the vote_and_rank snapshot",
    description="Meta-Ave = plain mean of 11 tasks, mixing retrieval recall, QA accuracy and CIDEr (can exceed 100)",
)

# Open LLM Leaderboard v1 changed its Average twice; each era is its own record so a dated snapshot is audited
# against the task set of its period (docs/recipes.md). Sources: the Hugging Face blog posts "Open LLM Leaderboard:
# DROP deep dive" (2023-12-01: Winogrande, GSM8K and DROP were added about three weeks earlier, next to "the
# leaderboard original average of ARC, HellaSwag, TruthfulQA and MMLU"; DROP was then taken out of the Average) and
# "Open-LLM performances are plateauing" (2024-06, v1 frozen, v2 launched); Average checked on the benchbench
# snapshot for the final era.
_OPENLLM_SRC = ("Hugging Face Open LLM Leaderboard v1; HF blog 'Open LLM Leaderboard: DROP deep dive' (2023-12-01); "
                "HF blog 'Open-LLM performances are plateauing' (2024-06)")
OPENLLM_V1_2023_06 = Recipe(
    name="openllm-v1@2023-06", version="2023-06", title="Open LLM Leaderboard v1 (4-task era, 2023-05 to 2023-11)",
    tasks=tuple(T(n) for n in ("ARC", "HellaSwag", "MMLU", "TruthfulQA")),
    published_score=(r"average", r"score"), reference=r"\bhuman", source=_OPENLLM_SRC,
    description="Average = mean of 4 tasks (ARC 25-shot, HellaSwag 10-shot, MMLU 5-shot, TruthfulQA 0-shot), from "
                "the launch (May 2023) until Winogrande, GSM8K and DROP were added in early November 2023",
)
OPENLLM_V1_2023_11 = Recipe(
    name="openllm-v1@2023-11", version="2023-11", title="Open LLM Leaderboard v1 (7-task era with DROP, 2023-11)",
    tasks=tuple(T(n) for n in ("ARC", "HellaSwag", "MMLU", "TruthfulQA", "Winogrande", "GSM8K", "DROP")),
    published_score=(r"average", r"score"), reference=r"\bhuman", source=_OPENLLM_SRC,
    description="Average = mean of 7 tasks, DROP (3-shot F1) included: early November 2023 until DROP was taken "
                "out of the Average in December 2023 after the DROP deep dive (2023-12-01)",
)
OPENLLM_V1 = Recipe(
    name="openllm-v1", version="1.0", title="Open LLM Leaderboard v1",
    tasks=tuple(T(n) for n in ("ARC", "HellaSwag", "MMLU", "TruthfulQA", "Winogrande", "GSM8K")),
    published_score=(r"average", r"score"), reference=r"\bhuman",
    source="Hugging Face Open LLM Leaderboard v1; Average checked on 100/100 rows of the benchbench snapshot",
    description="Average = mean of 6 tasks (the final era: December 2023 until v1 was frozen in June 2024; "
                "earlier eras: openllm-v1@2023-06 with 4 tasks, openllm-v1@2023-11 with DROP)",
)

LIVEBENCH = Recipe(
    name="livebench", version="1.0", title="LiveBench",
    tasks=(
        T("Reasoning", aliases=("LB_Reasoning", "LB_Reasoning_Average")),
        T("Coding", aliases=("LB_Coding", "LB_Coding_Average")),
        T("Mathematics", aliases=("LB_Mathematics", "LB_Mathematics_Average")),
        T("Data Analysis", aliases=("LB_Data_Analysis", "LB_Data_Analysis_Average")),
        T("Language", aliases=("LB_Language", "LB_Language_Average")),
        T("IF", aliases=("LB_IF", "LB_IF_Average"), description="instruction following"),
    ),
    published_score=(r"score", r"livebench \d+", r"overall"), reference=r"\bhuman",
    source="White et al., LiveBench (arXiv 2406.19314); overall = mean of 6 categories (checked on both snapshots)",
    description="overall = mean of 6 category averages",
)

GENERIC = Recipe(
    name="generic", version="1.0", title="generic (every numeric column is a task)",
    tasks=(), published_score=(), reference=r"\bhuman", nan_in_composite="missing", scale=100.0,
    description="every numeric column except the system, team, rank, published score and metadata columns "
                "(parameters, sizes, dates); choose explicitly with --tasks",
)

RECIPES = (GLUE, SUPERGLUE, XTREME, XGLUE_UNDERSTANDING, XGLUE_UNIQUE, XGLUE_GENERATION, VALUE, OPENLLM_V1,
           OPENLLM_V1_2023_06, OPENLLM_V1_2023_11,
           LIVEBENCH, GENERIC)
