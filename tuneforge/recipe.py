"""The recipe: one YAML file, validated by a strict pydantic v2 schema.

Defaults live only in this schema (nowhere else reads a key with a fallback). Unknown keys,
wrong types, impossible values and the tasks' cross-section checks are all reported together,
each with its key path. Relative paths inside a recipe are resolved against the recipe file's
folder. The core sections live here; each task's `data` format and `eval.<task>` section live in
its package under tuneforge/tasks/, and `recipe_model()` puts them together.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from tuneforge.data.sources import Source
from tuneforge.errors import ProblemCollector, UserError

EMBEDDED_DEFAULT = "embedded:smollm2-135m-instruct"
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# Quantization names llama.cpp's quantizer accepts (tuneforge export turns them into files).
GGUF_QUANTS = [
    "f32",
    "f16",
    "bf16",
    "q8_0",
    "q6_k",
    "q5_k_m",
    "q5_k_s",
    "q5_0",
    "q4_k_m",
    "q4_k_s",
    "q4_0",
    "q3_k_m",
    "q2_k",
]
EXPORT_FORMATS = ["merged", "gguf", "ollama", "vllm", "lora", "lora-gguf"]
# train.report_to: each tracker (also the module it needs) and the pyproject extra that installs it.
TRACKERS = {"tensorboard": "tracking", "mlflow": "tracking", "wandb": "wandb", "trackio": "trackio"}
OPTIMIZERS = [
    "auto",
    "adamw_torch",
    "adamw_torch_fused",
    "adamw_8bit",
    "paged_adamw_8bit",
    "paged_adamw_32bit",
    "adafactor",
    "sgd",
]

Fraction = Annotated[float, Field(ge=0.0, lt=1.0)]
PositiveInt = Annotated[int, Field(gt=0)]


class Section(BaseModel):
    # Each field's docstring (the string under it) becomes its description: `recipes show --explain`.
    model_config = ConfigDict(extra="forbid", validate_default=True, use_attribute_docstrings=True)


def resolve_existing_file(value: Path, info: ValidationInfo, folders_allowed: bool = False) -> Path:
    """Resolve a recipe-relative path and insist that the file (or, where allowed, folder) exists."""
    base_dir = Path((info.context or {}).get("base_dir", "."))
    path = value if value.is_absolute() else (base_dir / value)
    path = path.resolve()
    if not (path.is_file() or (folders_allowed and path.is_dir())):
        raise ValueError(f"{'file or folder' if folders_allowed else 'file'} not found: {path}")
    return path


class ModelSection(Section):
    """The base model and how it is loaded."""

    base: str = EMBEDDED_DEFAULT
    """A hub id (cached, or the machine online), a local folder, or embedded:smollm2-135m-instruct."""
    max_seq_length: PositiveInt = 2048
    """Longest training sample in tokens; longer ones follow data.filter.overlength."""
    load_in_4bit: Literal["auto"] | bool = "auto"
    """auto: 4-bit on a GPU; full precision on a CPU, where bitsandbytes' 4-bit matmuls are emulated and
    measured 2.3-2.6x slower per step for SmolLM2 (BENCHMARKS.md)."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """Compute dtype; auto: bfloat16 where the GPU supports it, else float16 on a GPU, float32 on a CPU."""
    trust_remote_code: bool = False
    """Run the model repository's own Python code (only for models that need it)."""
    adapter: Path | None = None
    """A run folder whose adapter training continues (SFT, then DPO); its adapter's own LoRA shape is kept."""

    @field_validator("adapter")
    @classmethod
    def _adapter_run(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        run_dir = resolve_existing_file(value, info, folders_allowed=True)
        if not (run_dir / "adapter" / "adapter_config.json").is_file():
            raise ValueError(f"{run_dir} is not a complete training run (it has no adapter/)")
        return run_dir


class LoraSection(Section):
    """The LoRA adapter (PEFT, through Unsloth's get_peft_model)."""

    r: PositiveInt = 16
    """Rank of the update matrices."""
    alpha: PositiveInt = 32
    """Scale of the update (alpha / r, or alpha / sqrt(r) with use_rslora)."""
    dropout: Fraction = 0.0
    """Dropout on the adapter's input."""
    target_modules: list[str] = Field(default_factory=lambda: list(ALL_LINEAR), min_length=1)
    """The linear layers that get an adapter."""
    bias: Literal["none", "all", "lora_only"] = "none"
    """Which biases train."""
    use_rslora: bool = False
    """Rank-stabilized scaling (alpha / sqrt(r))."""


class SplitSection(Section):
    """The seeded train/val/test split (whole groups, e.g. one article's samples, stay together)."""

    val: Annotated[float, Field(ge=0.0, le=0.5)] = 0.1
    """Share of the samples held out for validation (held-out loss, style perplexity)."""
    test: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    """Share held out for the task's test metrics."""
    seed: int = 42
    """Seed of the shuffle before the split."""


class FilterSection(Section):
    """The quality filter; every dropped sample is counted in the data report."""

    min_response_chars: Annotated[int, Field(ge=0)] = 1
    """Drop samples with an assistant turn shorter than this."""
    max_response_chars: PositiveInt | None = None
    """Drop samples with an assistant turn longer than this; None: no limit."""
    overlength: Literal["drop", "truncate", "truncate_input"] = "drop"
    """Samples longer than model.max_seq_length: drop them, cut their end off (the reply too), or
    truncate_input: cut only the input text (never the instruction, system prompt or answer) until the whole
    sample fits, and cut it the same way at prediction time. truncate_input is for formats whose input is one
    text (classification, where it is the default when this key is not set)."""
    truncate_side: Literal["middle", "end"] = "middle"
    """Where truncate_input cuts the text: middle keeps its start and its end (a review's opening and its
    verdict), end keeps its start. An ellipsis (…) marks the cut."""


class DataSection(Section):
    """The training data. Its `format` picks the section's class (the task that reads it); settings
    of another format are unknown keys here."""

    FOLDERS: ClassVar[bool] = False  # True where entries are folders of the format's own (markdown, parallel)
    # Per format, the record fields data.columns may map (a format not listed takes any field name).
    FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {}
    format: str
    """The data layout: chat, sharegpt, alpaca, classification, markdown, parallel (or a registered task's)."""
    train: list[Source] = Field(min_length=1)
    """Data sources, relative to the recipe: .jsonl, .json, .parquet, .csv or .tsv files, datasets' save_to_disk
    folders (FOLDER:SPLIT picks a DatasetDict's split), hub:owner/name[:split] (a cached or downloadable hub
    dataset); for markdown and parallel, their folders."""
    val: list[Source] = Field(default_factory=list)
    """Validation sources (the same kinds as train): they replace the random validation split, so
    data.split.val must stay unset or 0. Records identical to a training record are dropped and counted."""
    test: list[Source] = Field(default_factory=list)
    """Test sources (the same kinds as train): they replace the random test split, so data.split.test must
    stay unset or 0. Records identical to a training record are dropped and counted."""
    columns: dict[str, str] = Field(default_factory=dict)
    """Your column names for the format's fields, {field: column}, e.g. {text: review, label: sentiment} or
    {prompt: question, chosen: good, rejected: bad}; applied to every record of train, val and test."""
    system_prompt: str | None = None
    """Put first in every sample that has no system turn of its own."""
    subset: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    """Train on this share of the training split (the validation and test splits stay whole)."""
    split: SplitSection = Field(default_factory=SplitSection)
    """How the samples are split."""
    filter: FilterSection = Field(default_factory=FilterSection)
    """Which samples are dropped."""
    assistant_only_loss: bool = True
    """Learn only the assistant turns (the other tokens are masked out of the loss)."""
    packing: bool = False
    """Pack several samples into one sequence (where Unsloth supports it: FlashAttention on a GPU)."""
    group_by_length: bool = False
    """Batch samples of similar length together (transformers' length-grouped sampler), so that batches carry
    less padding; the order stays random between groups. Method sft only; not with data.packing."""

    @classmethod
    def formats(cls) -> tuple[str, ...]:
        """The `format` values this class reads (its Literal)."""
        return cls.model_fields["format"].annotation.__args__

    def read(self, path: Path, problems: ProblemCollector) -> list:
        """Samples (tuneforge.data.formats.Sample) of one source (an entry of train, val or test); bad records
        go to `problems`."""
        raise NotImplementedError

    def rejection_reason(self, sample) -> str | None:
        """A format's own reason to drop a sample (counted in the data report), or None."""
        return None

    def complete(self, recipe) -> None:
        """Fill settings whose default depends on other sections (called once the recipe validated)."""

    def fit(self, sample, tokenizer, max_len: int):
        """filter.overlength truncate_input: the sample with its input text cut so that it fits max_len tokens
        (the sample itself where it fits), or None where it cannot fit. Formats that support it override this."""
        raise NotImplementedError(f"format {self.format} cannot truncate its input")

    @model_validator(mode="after")
    def _input_can_be_truncated(self) -> DataSection:
        if self.filter.overlength == "truncate_input" and type(self).fit is DataSection.fit:
            raise ValueError(
                f"filter.overlength: truncate_input cuts the input text of a format that has one (classification), "
                f"not of format {self.format}; use drop or truncate"
            )
        return self

    def has_split(self, part: str) -> bool:
        """Whether the data has a `part` (val or test) split: its own files, or a fraction carved from train."""
        return bool(getattr(self, part)) or getattr(self.split, part) > 0

    @field_validator("train", "val", "test", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, Path)) else value

    @field_validator("train", "val", "test", mode="after")
    @classmethod
    def _sources_exist(cls, value: list[Source], info: ValidationInfo) -> list[Source]:
        from tuneforge.data.sources import resolve_source

        if cls.FOLDERS:
            return [resolve_existing_file(Path(path), info, folders_allowed=True) for path in value]
        base_dir, sources, problems = Path((info.context or {}).get("base_dir", ".")), [], []
        for entry in value:
            try:
                sources.append(resolve_source(entry, base_dir))
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))
        return sources

    @field_validator("columns", mode="after")
    @classmethod
    def _columns_of_fields(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        fmt = info.data.get("format")
        if value and cls.FOLDERS:
            raise ValueError(f"format {fmt} reads folders of its own, not records with columns; remove data.columns")
        fields = cls.FIELDS.get(fmt)
        unknown = [field for field in value if fields is not None and field not in fields]
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not a field of format {fmt}; its fields are {', '.join(fields)}")
        columns = list(value.values())
        doubled = sorted({column for column in columns if columns.count(column) > 1})
        if doubled:
            raise ValueError(f"each field needs a column of its own; {', '.join(doubled)} is named twice")
        if not all(column.strip() for column in columns):
            raise ValueError("a column name is empty")
        return value

    @model_validator(mode="after")
    def _files_replace_fractions(self) -> DataSection:
        """A val/test file replaces that split's random fraction: an explicit fraction beside it is refused,
        and the default is set to 0 (so the resolved recipe says what the split really is)."""
        for part in ("val", "test"):
            if not getattr(self, part):
                continue
            if part in self.split.model_fields_set and getattr(self.split, part) > 0:
                raise ValueError(
                    f"split.{part} is {getattr(self.split, part)}, but data.{part} names {part} files, which replace "
                    f"the random {part} split; remove data.split.{part} (or set it to 0)"
                )
            setattr(self.split, part, 0.0)
        return self


class DistributedSection(Section):
    """How training runs on more than one process (`tuneforge train --devices N`, or under torchrun /
    accelerate launch). One process ignores it, whatever it says."""

    strategy: Literal["auto", "ddp", "fsdp2", "deepspeed"] = "auto"
    """auto: DDP when more than one process runs. ddp: every process holds the whole model. fsdp2: the
    parameters are sharded over the processes (torch's fully_shard, through Unsloth's native FSDP2).
    deepspeed: ZeRO (needs GPUs and `make setup-deepspeed`)."""
    zero_stage: Literal[2, 3] = 2
    """DeepSpeed ZeRO stage: 2 shards optimizer state and gradients, 3 also the parameters."""
    cpu_offload: bool = False
    """Keep optimizer state (and, for fsdp2 / ZeRO-3, parameters) in host memory: slower, fits bigger models."""
    timeout_s: Annotated[int, Field(ge=10)] = 600
    """A collective that waits longer than this fails the job (a rank that died or hung stops the rest)."""


class DPOSection(Section):
    """Direct preference optimization (TRL's DPOTrainer): raise chosen over rejected replies against a
    frozen reference (the starting adapter, or the base model)."""

    beta: Annotated[float, Field(gt=0)] = 0.1
    """How far the model may move from the reference: higher stays closer."""
    loss_type: Literal["sigmoid", "hinge", "ipo", "robust"] = "sigmoid"
    """sigmoid: the DPO paper's loss; hinge: SLiC; ipo: identity preference; robust: label-noise robust DPO."""


class ORPOSection(Section):
    """Odds-ratio preference optimization (TRL's ORPOTrainer): SFT on chosen plus an odds-ratio penalty on
    rejected, in one pass and without a reference model."""

    beta: Annotated[float, Field(gt=0)] = 0.1
    """Weight of the odds-ratio term against the SFT loss (the paper's lambda)."""


class KTOSection(Section):
    """Kahneman-Tversky optimization (TRL's KTOTrainer): learn from single replies marked good or bad
    (format: kto), against a frozen reference like DPO."""

    beta: Annotated[float, Field(gt=0)] = 0.1
    """How far the model may move from the reference: higher stays closer."""
    desirable_weight: Annotated[float, Field(gt=0)] = 1.0
    """Weight of the good replies' loss (raise it when good replies are the rarer kind)."""
    undesirable_weight: Annotated[float, Field(gt=0)] = 1.0
    """Weight of the bad replies' loss."""


class JudgeEndpoint(Section):
    """An LLM judge behind any OpenAI-compatible API, replying with validated score JSON
    (tuneforge/tasks/domain/judge.py)."""

    base_url: str = Field(min_length=1)
    """http(s)://host:port/v1, or a run/export folder (or recipe name) that llama.cpp serves for the purpose."""
    model: str | None = None
    """The judge's model name; None: the first model the endpoint lists."""
    api_key_env: str | None = None
    """Name of the environment variable that holds the judge's API key."""
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    """Extra attempts after a reply that is not valid score JSON."""
    response_format: Literal["auto", "json_schema", "json_object", "llamacpp_schema", "text"] = "auto"
    """auto: llamacpp_schema for a run/export folder, json_object for a URL; json_schema: OpenAI
    structured outputs (OpenAI, vLLM); text: no constraint."""
    max_tokens: PositiveInt = 384
    """Longest judge reply."""
    timeout_s: Annotated[float, Field(gt=0)] = 120.0
    """Seconds to wait for one judge reply."""


class Reward(Section):
    """One GRPO reward; the rewards' weighted sum is what GRPO raises."""

    weight: float = 1.0
    """Weight of this reward in the sum (negative: a penalty)."""


class ReferenceReward(Reward):
    """chrf / bleu: sacrebleu's sentence score of the reply against a reference, divided by 100."""

    name: Literal["chrf", "bleu"]
    """chrf: character n-gram F-score; bleu: BLEU (CJK text tokenized by character)."""
    field: str = "reference"
    """The row field that holds the reference (task data: the reply of the sample)."""


class LabelMatchReward(Reward):
    """1 when the reply is the label (case, surrounding space and end punctuation ignored), else 0."""

    name: Literal["label_match"]
    """The reply must be the label."""
    field: str = "label"
    """The row field that holds the expected label."""


class FormatReward(Reward):
    """1 when the reply matches `pattern` (a regular expression, searched) or contains one of `phrases`, else 0."""

    name: Literal["format"]
    """The reply must match a pattern or contain a phrase."""
    pattern: str | None = None
    """A Python regular expression, searched in the reply (anchor it with ^ or $ as needed)."""
    phrases: list[str] | None = Field(None, min_length=1)
    """Exact phrases; the reply earns the reward when it contains any of them."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_test(self) -> FormatReward:
        if (self.pattern is None) == (self.phrases is None):
            raise ValueError("set exactly one of pattern (a regular expression) and phrases (a list)")
        return self


class LengthReward(Reward):
    """1 for a reply of min_chars to max_chars characters; shorter ones earn length / min_chars, longer
    ones max_chars / length."""

    name: Literal["length"]
    """The reply's length in characters must fall in a range."""
    min_chars: Annotated[int, Field(ge=0)] = 0
    """Shortest reply that earns the full reward."""
    max_chars: PositiveInt
    """Longest reply that earns the full reward."""

    @model_validator(mode="after")
    def _ordered(self) -> LengthReward:
        if self.min_chars > self.max_chars:
            raise ValueError(f"min_chars ({self.min_chars}) is above max_chars ({self.max_chars})")
        return self


class JudgeReward(JudgeEndpoint, Reward):
    """An LLM judge's overall score of the reply (1-5, mapped to 0-1) given the prompt and the reference
    field when the row has one; a reply the judge cannot score counts as unscored, not as 0."""

    name: Literal["judge"]
    """An LLM judge scores the reply."""
    field: str = "reference"
    """The row field shown to the judge as the reference answer (absent: none is shown)."""


class CustomReward(Reward):
    """Your own Python function, `path/to/file.py:function` (relative to the recipe). The file is
    imported and runs with your permissions when training starts: only name code you trust."""

    name: Literal["custom"]
    """Your own function scores the reply."""
    function: str = Field(pattern=r"^.+\.py:[A-Za-z_]\w*$")
    """file.py:function; called as function(completions=[reply texts], prompts=[message lists], **row
    fields as lists) and returning one float (or None: unscored) per reply."""
    label: str | None = None
    """The name its mean and spread are logged under (default: the function's name)."""

    @field_validator("function", mode="after")
    @classmethod
    def _file_defines_function(cls, value: str, info: ValidationInfo) -> str:
        """The file exists and defines the function: checked by parsing it, so validating a recipe never
        runs its code."""
        import ast

        file, _, function = value.rpartition(":")
        path = resolve_existing_file(Path(file), info)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} is not valid Python: {exc}") from None
        defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        if function not in defined:
            raise ValueError(
                f"{path} defines no function {function!r} (it defines: {', '.join(sorted(defined)) or 'none'})"
            )
        return f"{path}:{function}"


RewardSpec = Annotated[
    Union[ReferenceReward, LabelMatchReward, FormatReward, LengthReward, JudgeReward, CustomReward],  # noqa: UP007
    Field(discriminator="name"),
]
REWARD_NAMES = ("chrf", "bleu", "label_match", "format", "length", "judge", "custom")


class GRPOSection(Section):
    """Group relative policy optimization (TRL's GRPOTrainer): sample several replies per prompt, score
    them with the rewards, and raise the better ones against their group's mean."""

    rewards: list[RewardSpec] = Field(min_length=1)
    """What a good reply earns: [{name: chrf | bleu | label_match | format | length | judge | custom, weight, ...}]."""
    num_generations: Annotated[int, Field(ge=2)] = 4
    """Replies sampled per prompt (the group); train.batch_size counts replies and must be a multiple of it."""
    max_completion_length: PositiveInt = 128
    """Longest sampled reply in tokens (a reply cut there is scored as it is)."""
    temperature: Annotated[float, Field(gt=0)] = 1.0
    """Sampling temperature of the replies."""
    beta: Annotated[float, Field(ge=0)] = 0.0
    """KL penalty towards the starting model; 0: none, and no reference pass (TRL's default)."""
    loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo"] = "dapo"
    """TRL's loss normalisation: dapo (TRL's default: per token over the batch), grpo (per sequence),
    dr_grpo (a constant), bnpo (per token over the local batch)."""
    scale_rewards: Literal["group", "batch", "none"] = "group"
    """Divide the advantages by the rewards' spread in the group, in the batch, or not at all (Dr. GRPO)."""
    eval_prompts: PositiveInt | None = 32
    """Held-out (validation) prompts whose mean reward is measured before and after training; None: all."""


METHOD_SECTIONS = ("dpo", "orpo", "kto", "grpo")  # methods with a settings section train.<method>
METHOD_FORMATS = {"dpo": "preference", "orpo": "preference", "kto": "kto"}  # the one data format each trains on
# Formats only some methods train on. grpo takes prompts, or any task's samples (their replies become
# the rewards' references); sft takes every other format.
FORMAT_METHODS = {"preference": ("dpo", "orpo"), "kto": ("kto",), "prompts": ("grpo",)}
DEFAULT_GRAD_ACCUM = 4  # train.grad_accum when neither it nor train.global_batch_size is set


class TrainSection(Section):
    """The optimizer and schedule (TRL's SFTTrainer through Unsloth)."""

    epochs: Annotated[float, Field(gt=0)] = 1.0
    """Passes over the training split (max_steps wins when set)."""
    max_steps: PositiveInt | None = None
    """Stop after this many optimizer steps; None: epochs decide."""
    batch_size: PositiveInt = 2
    """Samples per device per forward pass."""
    grad_accum: PositiveInt | None = None
    """Forward passes per optimizer step (effective batch = batch_size x grad_accum x processes); None: derived
    from global_batch_size when that is set, else 4."""
    global_batch_size: PositiveInt | None = None
    """Samples per optimizer step over all processes; when set, grad_accum is derived from it (global /
    (batch_size x processes)), so the effective batch stays the same on any number of devices."""
    lr: Annotated[float, Field(gt=0, lt=1)] = 2e-4
    """Peak learning rate."""
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    """Learning-rate schedule after warm-up."""
    warmup_ratio: Fraction = 0.03
    """Share of the steps spent warming up."""
    weight_decay: Annotated[float, Field(ge=0)] = 0.0
    """AdamW weight decay."""
    max_grad_norm: Annotated[float, Field(gt=0)] = 1.0
    """Gradient clipping."""
    optim: Literal[tuple(OPTIMIZERS)] = "auto"  # type: ignore[valid-type]
    """auto: paged 8-bit AdamW on a GPU, AdamW on a CPU (bitsandbytes' 8-bit optimizers need a GPU)."""
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    """Mixed precision; auto: bf16 where the GPU supports it, fp16 on older GPUs, fp32 on a CPU."""
    gradient_checkpointing: Literal["auto", "unsloth"] | bool = "auto"
    """auto: Unsloth's offloaded checkpointing on a GPU; off on a CPU (it costs ~40% more compute there and
    host memory is rarely the limit). "unsloth" or true forces it, false turns it off."""
    seed: int = 3407
    """Seed of the model's initialization of LoRA and of the data order."""
    logging_steps: PositiveInt = 10
    """Log the training loss every this many steps (metrics.jsonl)."""
    eval_steps: PositiveInt | None = 100
    """Measure the held-out loss every this many steps; None: only before and after."""
    save_steps: PositiveInt = 100
    """Write a checkpoint every this many steps (resume continues from the newest)."""
    save_total_limit: PositiveInt = 3
    """Checkpoints kept (older ones are deleted)."""
    method: Literal["sft", "dpo", "orpo", "kto", "grpo"] = "sft"
    """sft: learn the replies (TRL's SFTTrainer); dpo and orpo: prefer chosen over rejected replies
    (format: preference); kto: replies marked good or bad (format: kto); grpo: raise the rewards of
    sampled replies (format: prompts, or any task's data with its replies as references)."""
    dpo: DPOSection | None = None
    """Settings of method dpo (defaults when absent); only with train.method: dpo."""
    orpo: ORPOSection | None = None
    """Settings of method orpo (defaults when absent); only with train.method: orpo."""
    kto: KTOSection | None = None
    """Settings of method kto (defaults when absent); only with train.method: kto."""
    grpo: GRPOSection | None = None
    """Settings of method grpo (its rewards are required); only with train.method: grpo."""
    distributed: DistributedSection = Field(default_factory=DistributedSection)
    """Strategy and limits for training on more than one process."""
    report_to: list[Literal[tuple(TRACKERS)]] = Field(default_factory=list)  # type: ignore[valid-type]
    """Experiment trackers fed by transformers' own integrations, besides metrics.jsonl: tensorboard (event
    files in RUN/logs/), mlflow (a file store in RUN/mlruns/ unless MLFLOW_TRACKING_URI is set), wandb (offline
    into RUN/wandb/ unless WANDB_MODE is set and W&B is reachable with credentials), trackio (its own local
    store). Each logs the loss curve and the run's settings; none needs the network. Empty: none."""


class EvalSection(Section):
    """What `tuneforge eval` measures: the held-out loss, plus one section per task evaluation."""

    held_out_loss: bool = True
    """Loss on the validation split's assistant tokens before and after training."""


class ExportSection(Section):
    """Read by `tuneforge export`; validated here so typos fail early."""

    formats: list[Literal[tuple(EXPORT_FORMATS)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["merged", "gguf"], min_length=1
    )
    """What to export: merged, gguf, ollama, vllm, lora, lora-gguf."""
    quants: list[Literal[tuple(GGUF_QUANTS)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["q8_0"], min_length=1
    )
    """GGUF types to write (the first is what serve picks by default)."""
    max_task_drop: float | None = None
    """Fail the export (exit 2, report marked failed, no export.json) when an artifact's task metric is
    more than this below the adapter's, in the metric's units (0.02 = 2 points of accuracy; BLEU is
    0-100); setting it turns on `export --eval`. None: measured only with --eval, never failed."""


class ServeSection(Section):
    """Read by `tuneforge serve`, `chat` and `predict`; validated here so typos fail early."""

    backend: Literal["llamacpp", "vllm"] = "llamacpp"
    """The serving engine."""
    host: str = "127.0.0.1"
    """Address to bind; loopback: reachable from this machine only."""
    port: Annotated[int, Field(gt=0, lt=65536)] = 8000
    """Port to bind."""
    n_ctx: PositiveInt = 2048
    """Context per request (llama.cpp: per slot), prompt and reply together."""
    parallel: PositiveInt = 8
    """llama.cpp's slots decoded together by continuous batching; KV memory grows with n_ctx x parallel."""


class RecipeBase(Section):
    """A whole recipe. Its `data` and `eval` fields come from the registered tasks (recipe_model)."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    """The recipe's name: runs go to runs/<name>/ (lowercase letters, digits, - and _)."""
    description: str = ""
    """One line for `tuneforge recipes list`."""
    model: ModelSection = Field(default_factory=ModelSection)
    """The base model."""
    lora: LoraSection = Field(default_factory=LoraSection)
    """The adapter."""

    @model_validator(mode="after")
    def _complete(self) -> RecipeBase:
        self.data.complete(self)
        return self


Recipe = RecipeBase  # the type name code annotates with; instances come from recipe_model()


@functools.cache
def _recipe_model_for(version: int) -> type[RecipeBase]:
    from tuneforge.tasks import formats_of, registered

    tasks, owners = registered(), {}
    for task in tasks:
        for fmt in formats_of(task):
            if fmt in owners:
                raise ValueError(f"format {fmt!r} is claimed by tasks {owners[fmt]!r} and {task.name!r}")
            owners[fmt] = task.name
    sections = tuple(section for task in tasks for section in task.data_sections())
    data_type = Annotated[Union[sections], Field(discriminator="format")]  # noqa: UP007 (a runtime tuple)
    evals = {
        task.name: (task.eval_section() | None, Field(None, description=task.eval_section().__doc__))
        for task in tasks
        if task.eval_section() is not None
    }
    eval_model = create_model("EvalSection", __base__=EvalSection, **evals)
    # Added here in the order a recipe is read (and written to recipe.resolved.yaml).
    return create_model(
        "Recipe",
        __base__=RecipeBase,
        data=(data_type, Field(description="The training data; `format` picks its layout.")),
        train=(TrainSection, Field(default_factory=TrainSection, description="The schedule.")),
        eval=(eval_model, Field(default_factory=eval_model, description=EvalSection.__doc__)),
        export=(ExportSection, Field(default_factory=ExportSection, description="Exported artifacts.")),
        serve=(ServeSection, Field(default_factory=ServeSection, description="Serving defaults.")),
    )


def recipe_model() -> type[RecipeBase]:
    """The Recipe schema of the tasks registered now (rebuilt when one is added)."""
    from tuneforge.tasks import registry_version

    return _recipe_model_for(registry_version())


def data_formats() -> dict[str, type[DataSection]]:
    """Every `data.format` value and the section class that reads it."""
    from tuneforge.tasks import registered

    return {fmt: section for task in registered() for section in task.data_sections() for fmt in section.formats()}


def validate_data_section(raw: dict, base_dir: Path = Path(".")) -> DataSection:
    """A `data` section alone, validated by its format's class (for code that builds one in memory)."""
    return data_formats()[raw["format"]].model_validate(raw, context={"base_dir": base_dir})


def recipe_problems(recipe: RecipeBase) -> list[str]:
    """Checks that span sections: the core's, then every task's (all reported together)."""
    from tuneforge.tasks import registered

    split, problems = recipe.data.split, []
    if split.val + split.test >= 0.9:
        problems.append("data.split: val + test must leave at least 10% for training")
    if recipe.eval.held_out_loss and not recipe.data.has_split("val"):
        problems.append(
            "eval.held_out_loss: needs a validation split; set data.split.val > 0, data.val to a file, "
            "or eval.held_out_loss: false"
        )
    problems += batch_problems(recipe.train)
    problems += method_problems(recipe)
    problems += length_grouping_problems(recipe)
    for task in registered():
        problems += task.check(recipe)
    return problems


def method_problems(recipe: RecipeBase) -> list[str]:
    """Each method's settings section goes with that method only, and each method with the data it trains on."""
    method, data_format, problems = recipe.train.method, recipe.data.format, []
    for other in METHOD_SECTIONS:
        if other != method and getattr(recipe.train, other) is not None:
            problems.append(f"train.{other}: settings of train.method {other}, but this recipe's method is {method}")
    wanted = METHOD_FORMATS.get(method)
    if wanted and data_format != wanted:
        problems.append(f"train.method: {method} trains on data.format {wanted}, not {data_format}")
    elif data_format in FORMAT_METHODS and method not in FORMAT_METHODS[data_format]:
        users = " or ".join(FORMAT_METHODS[data_format])
        problems.append(f"data.format: {data_format} needs train.method {users}, not {method}")
    if method == "grpo":
        problems += grpo_problems(recipe.train)
    return problems


def grpo_problems(train: TrainSection) -> list[str]:
    if train.grpo is None:
        return ["train.grpo.rewards: method grpo needs at least one reward, e.g. train.grpo.rewards: [{name: chrf}]"]
    if train.batch_size % train.grpo.num_generations:
        return [
            f"train.batch_size: in GRPO it counts sampled replies, so it must be a multiple of "
            f"train.grpo.num_generations ({train.grpo.num_generations}), got {train.batch_size}"
        ]
    return []


def batch_problems(train: TrainSection) -> list[str]:
    if train.global_batch_size is None:
        return []
    if train.grad_accum is not None:
        return ["train.global_batch_size: grad_accum is derived from it; remove train.grad_accum (or set it to null)"]
    if train.global_batch_size % train.batch_size:
        return [
            f"train.global_batch_size: {train.global_batch_size} is not a multiple of "
            f"train.batch_size ({train.batch_size})"
        ]
    return []


def length_grouping_problems(recipe: RecipeBase) -> list[str]:
    """Length grouping orders SFT's tokenized samples; packed sequences have no lengths left to group, and the
    other methods' trainers tokenize rows themselves (GRPO and KTO keep an order of their own)."""
    if not recipe.data.group_by_length:
        return []
    if recipe.data.packing:
        return ["data.group_by_length: packed batches carry no padding to save; set data.packing: false or drop it"]
    if recipe.train.method != "sft":
        return [f"data.group_by_length: only with train.method sft, not {recipe.train.method}"]
    return []


def tracker_problems(train: TrainSection) -> list[str]:
    """Each tracker in train.report_to is installed (a module check; nothing is imported). Checked when training
    starts, not with the recipe's other checks: a finished run evaluates and exports on machines without its
    trackers."""
    import importlib.util

    return [
        f"train.report_to: {name} is not installed; install its extra into this environment: "
        f"pip install -e '.[{TRACKERS[name]}]' (a shipped install: pip install 'tuneforge[{TRACKERS[name]}]')"
        for name in dict.fromkeys(train.report_to)
        if importlib.util.find_spec(name) is None
    ]


# ---------------------------------------------------------------- loading


class _StrictLoader(yaml.SafeLoader):
    """safe_load that also refuses duplicate keys (PyYAML silently keeps the last one)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise UserError(f"{where}: invalid YAML: {problem}", fix="fix the YAML syntax at that line") from None


def recipes_dir() -> Path:
    """The shipped recipes folder (installed as the package tuneforge.recipes)."""
    import tuneforge.recipes

    return Path(tuneforge.recipes.__file__).resolve().parent


def shipped_recipes() -> dict[str, Path]:
    """Every shipped recipe by name, found recursively under recipes/."""
    return {path.stem: path for path in sorted(recipes_dir().rglob("*.yaml"))}


def find_recipe(ref: str | Path) -> Path:
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise UserError(f"recipe file not found: {path}")
        return path.resolve()
    recipes = shipped_recipes()
    if str(ref) in recipes:
        return recipes[str(ref)]
    raise UserError(f"unknown recipe {str(ref)!r}", fix=f"use a path to a YAML file or one of: {', '.join(recipes)}")


def parse_override(text: str) -> tuple[list[str], Any]:
    key, sep, raw = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", key.strip()):
        raise UserError(f"bad override {text!r}", fix="write overrides as -o section.key=value, e.g. -o train.lr=1e-4")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    for text in overrides:
        keys, value = parse_override(text)
        node = raw
        for depth, key in enumerate(keys[:-1]):
            if node.get(key) is None:  # an absent or null optional section (e.g. eval.domain.judge) starts empty
                node[key] = {}
            child = node[key]
            if not isinstance(child, dict):
                raise UserError(f"override {text!r}: {'.'.join(keys[: depth + 1])} is not a section")
            node = child
        node[keys[-1]] = value
    return raw


def _error_location(loc: tuple) -> tuple:
    """The key path of an error, without the tag that pydantic's discriminated unions put after "data"
    (data.classification.labels, not data.classification.classification.labels) and after a reward's index."""
    if len(loc) > 1 and loc[0] == "data" and loc[1] in data_formats():
        return (loc[0], *loc[2:])
    if loc[:3] == ("train", "grpo", "rewards") and len(loc) > 4 and loc[4] in REWARD_NAMES:
        return (*loc[:4], *loc[5:])  # train.grpo.rewards.0.pattern, not ...rewards.0.format.pattern
    return loc


# Keys that recipes once had, and what replaced them: an old recipe is told the new spelling.
REPLACED_KEYS = {
    "data.classification.text_key": "data.columns, which renames the fields of every format: columns: {text: YOUR_COLUMN}",
    "data.classification.label_key": "data.columns, which renames the fields of every format: columns: {label: YOUR_COLUMN}",
}


def _format_error(error: dict) -> str:
    loc = _error_location(tuple(error["loc"]))
    location = ".".join(str(part) for part in loc) or "(recipe)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden" and location in REPLACED_KEYS:
        return f"{location}: no longer a key; use {REPLACED_KEYS[location]}"
    if error["type"] == "extra_forbidden":
        return (
            f"{location}: unknown key{_belongs_elsewhere(error['loc'])} (check the spelling; "
            "`tuneforge recipes show NAME --explain` lists the valid keys)"
        )
    if error["type"] == "missing":
        return f"{location}: required key is missing"
    if error["type"] in ("union_tag_invalid", "union_tag_not_found") and loc[:1] != ("data",):
        return _tag_error(location, error)
    if error["type"] == "union_tag_invalid":
        return (
            f"{location}.format: {error['ctx']['tag']!r} is not a data format; use one of: {', '.join(data_formats())}"
        )
    if error["type"] == "union_tag_not_found":
        return f"{location}.format: required key is missing (one of: {', '.join(data_formats())})"
    shown = error.get("input")
    # A section-level problem would otherwise dump the whole section; its message names the keys.
    return f"{location}: {message}" if isinstance(shown, (dict, list)) else f"{location}: {message} (got {shown!r})"


def _tag_error(location: str, error: dict) -> str:
    """A kind of entry (a reward's name) that is missing or unknown, with the kinds there are."""
    key = error["ctx"]["discriminator"].strip("'")
    kinds = error["ctx"].get("expected_tags", "").replace("'", "") or ", ".join(REWARD_NAMES)
    if error["type"] == "union_tag_not_found":
        return f"{location}.{key}: required key is missing (one of: {kinds})"
    return f"{location}.{key}: {error['ctx']['tag']!r} is not one of the built-ins: {kinds}"


def _belongs_elsewhere(loc: tuple) -> str:
    """', which goes with format: X' for a data key of another format."""
    if len(loc) != 3 or loc[0] != "data":
        return ""
    owners = [fmt for fmt, section in data_formats().items() if loc[2] in section.model_fields]
    return f" for format: {loc[1]} (it goes with format: {', '.join(owners)})" if owners else ""


def validate_recipe(raw: Any, source: Path) -> Recipe:
    """The validated recipe, or one UserError that lists every problem with its key path."""
    if not isinstance(raw, dict):
        raise UserError(f"{source}: a recipe must be a YAML mapping of sections, got {type(raw).__name__}")
    problems = ProblemCollector(f"invalid recipe {source}")
    try:
        recipe = recipe_model().model_validate(raw, context={"base_dir": source.parent})
    except ValidationError as exc:
        for error in exc.errors():
            problems.add(_format_error(error))
    else:
        for problem in recipe_problems(recipe):
            problems.add(problem)
    problems.raise_if_any(fix="edit the recipe or the -o override named above")
    return recipe


def load_recipe(ref: str | Path, overrides: list[str] | None = None) -> tuple[Recipe, Path]:
    """Find, read, override and validate a recipe. Returns it with its source path."""
    source = find_recipe(ref)
    raw = read_yaml(source) or {}
    if isinstance(raw, dict):
        raw = apply_overrides(raw, overrides or [])
    return validate_recipe(raw, source), source


def recipe_to_yaml(recipe: Recipe) -> str:
    return yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def explain(model: BaseModel, prefix: str = "") -> list[str]:
    """One line per key of a validated recipe (or section): key path, type, default, value and doc."""
    lines = []
    for name, field in type(model).model_fields.items():
        value, key = getattr(model, name), f"{prefix}{name}"
        doc = " ".join((field.description or "").split())
        if isinstance(value, BaseModel):
            lines.append(f"{key}:  {doc}")
            lines += explain(value, f"{key}.")
            continue
        if isinstance(value, list) and value and all(isinstance(item, BaseModel) for item in value):
            lines.append(f"{key}:  {doc}")  # a list of sections (GRPO's rewards): each entry by its index
            for index, item in enumerate(value):
                lines += explain(item, f"{key}.{index}.")
            continue
        default = (
            "required" if field.is_required() else f"default {_shown(field.get_default(call_default_factory=True))}"
        )
        lines.append(f"{key} = {_shown(value)}  [{_type_name(field.annotation)}; {default}]  {doc}")
    return lines


def _shown(value: Any) -> str:
    return (
        yaml.safe_dump(
            value if not isinstance(value, Path) else str(value),
            default_flow_style=True,
            width=10**6,
            allow_unicode=True,
        )
        .strip()
        .removesuffix("...")
        .strip()
        if not isinstance(value, list) or all(not isinstance(v, Path) for v in value)
        else "[" + ", ".join(map(str, value)) + "]"
    )


def _type_name(annotation: Any) -> str:
    """A readable type: `int | null`, `one of: a, b`, `list[Path]` (constraints are in the doc and the errors)."""
    import types
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in args)
    if origin is Literal:
        return "one of: " + ", ".join(map(str, args))
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(map(_type_name, args))}]"
    return "null" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))
