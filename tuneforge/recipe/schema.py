"""The core sections of a recipe: the strict pydantic v2 schema every recipe shares.

Defaults live only here (nowhere else reads a key with a fallback). Each task adds the `data` section of
each format it reads and its `eval.<task>` section, and each training method its `train.<method>`
section; tuneforge/recipe/assemble.py puts them together into the Recipe model of what is registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from tuneforge.data.sources import Source, resolve_source
from tuneforge.errors import ProblemCollector
from tuneforge.recipe.paths import base_dir, is_record, resolve_existing_file

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


class ModelSection(Section):
    """The base model and how it is loaded."""

    base: str = EMBEDDED_DEFAULT
    """A hub id (cached, or the machine online), a local folder, or an embedded model: embedded:smollm2-135m-instruct or embedded:qwen2.5-coder-0.5b-instruct (`tuneforge models list`)."""
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
        if is_record(info):  # the run holds its own adapter: the parent run may be gone
            return run_dir
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
        if cls.FOLDERS:
            return [resolve_existing_file(Path(path), info, folders_allowed=True) for path in value]
        sources, problems = [], []
        for entry in value:
            try:
                sources.append(resolve_source(entry, base_dir(info), must_exist=not is_record(info)))
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


class EarlyStoppingSection(Section):
    """Stop training once the held-out measure (the method's: a loss, or GRPO's reward), taken every
    train.eval_steps on the validation split, stops improving (transformers' EarlyStoppingCallback)."""

    patience: PositiveInt = 3
    """Evaluations in a row without an improvement of more than min_delta before training stops."""
    min_delta: Annotated[float, Field(ge=0)] = 0.0
    """The least change of the held-out measure that counts as an improvement, in its units (a loss, or a
    reward for GRPO)."""


DEFAULT_GRAD_ACCUM = 4  # train.grad_accum when neither it nor train.global_batch_size is set


class TrainSection(Section):
    """The optimizer, the schedule and the method (TRL's trainers through Unsloth). Each registered method with
    settings adds its section train.<method> (tuneforge/recipe/assemble.py)."""

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
    method: str = "sft"
    """The way of training, by a registered method's name: sft learns the replies (TRL's SFTTrainer); a method with
    settings reads them from train.<method>, and some train only on data formats of their own."""
    distributed: DistributedSection = Field(default_factory=DistributedSection)
    """Strategy and limits for training on more than one process."""
    report_to: list[Literal[tuple(TRACKERS)]] = Field(default_factory=list)  # type: ignore[valid-type]
    """Experiment trackers fed by transformers' own integrations, besides metrics.jsonl: tensorboard (event
    files in RUN/logs/), mlflow (a file store in RUN/mlruns/ unless MLFLOW_TRACKING_URI is set), wandb (offline
    into RUN/wandb/ unless WANDB_MODE is set and W&B is reachable with credentials), trackio (its own local
    store). Each logs the loss curve and the run's settings; none needs the network. Empty: none."""
    early_stopping: EarlyStoppingSection | None = None
    """Stop before max_steps / epochs when the held-out measure stops improving on its best so far, e.g.
    {patience: 3, min_delta: 0.01}; needs a validation split and train.eval_steps. None: train the whole
    schedule. The manifest records the step it stopped at and the best step."""
    keep_best: bool = False
    """Finish with the adapter of the checkpoint whose held-out measure was best (the lowest loss; GRPO: the
    highest reward), not the last one; checkpoint rotation never deletes it. Needs a validation split and
    train.eval_steps, with train.save_steps a multiple of it (equal to it keeps the very best: a best measure
    between two checkpoints has none to keep). The manifest's metrics say which adapter was kept."""


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
    max_stop_drop: Annotated[float, Field(ge=0, le=1)] | None = 0.25
    """With `export --eval`: fail the export when the share of held-out replies that end on their own
    (end-of-turn token before the token budget) is more than this below the adapter's (0.25 = 25
    points). A merged model or GGUF that lost its end-of-turn token answers like the adapter and then
    never stops. None: measured and reported, never failed."""


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
    """A whole recipe. Its `data`, `train` and `eval` fields come from the registered tasks and methods
    (tuneforge.recipe.assemble.recipe_model)."""

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
