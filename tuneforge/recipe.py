"""The recipe: one YAML file, validated by a strict pydantic v2 schema.

Defaults live only in this schema (nowhere else reads a key with a fallback). Unknown keys,
wrong types and impossible values are all reported together with their key path.
Relative paths inside a recipe are resolved against the recipe file's folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from tuneforge.errors import ProblemCollector, UserError

EMBEDDED_DEFAULT = "embedded:smollm2-135m-instruct"
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# Quantization names llama.cpp's quantizer accepts (the export issue turns them into files).
GGUF_QUANTS = ["f32", "f16", "bf16", "q8_0", "q6_k", "q5_k_m", "q5_k_s", "q5_0",
               "q4_k_m", "q4_k_s", "q4_0", "q3_k_m", "q2_k"]
EXPORT_FORMATS = ["merged", "gguf", "ollama", "vllm", "lora", "lora-gguf"]
OPTIMIZERS = ["auto", "adamw_torch", "adamw_torch_fused", "adamw_8bit", "paged_adamw_8bit",
              "paged_adamw_32bit", "adafactor", "sgd"]

Fraction = Annotated[float, Field(ge=0.0, lt=1.0)]
PositiveInt = Annotated[int, Field(gt=0)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _resolve_existing_file(value: Path, info: ValidationInfo, folders_allowed: bool = False) -> Path:
    """Resolve a recipe-relative path and insist that the file (or, where allowed, folder) exists."""
    base_dir = Path((info.context or {}).get("base_dir", "."))
    path = value if value.is_absolute() else (base_dir / value)
    path = path.resolve()
    if not (path.is_file() or (folders_allowed and path.is_dir())):
        raise ValueError(f"{'file or folder' if folders_allowed else 'file'} not found: {path}")
    return path


class ModelSection(Section):
    base: str = EMBEDDED_DEFAULT
    max_seq_length: PositiveInt = 2048
    # auto: 4-bit on a GPU; full precision on a CPU, where bitsandbytes' 4-bit matmuls are
    # emulated and measured 2.3-2.6x slower per step for SmolLM2 (BENCHMARKS.md).
    load_in_4bit: Literal["auto"] | bool = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    trust_remote_code: bool = False


class LoraSection(Section):
    r: PositiveInt = 16
    alpha: PositiveInt = 32
    dropout: Fraction = 0.0
    target_modules: list[str] = Field(default_factory=lambda: list(ALL_LINEAR), min_length=1)
    bias: Literal["none", "all", "lora_only"] = "none"
    use_rslora: bool = False


class SplitSection(Section):
    val: Annotated[float, Field(ge=0.0, le=0.5)] = 0.1
    test: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    seed: int = 42


class FilterSection(Section):
    min_response_chars: Annotated[int, Field(ge=0)] = 1
    max_response_chars: PositiveInt | None = None
    overlength: Literal["drop", "truncate"] = "drop"


FOLDER_FORMATS = ("markdown", "parallel")  # formats whose `train` entries may be folders (read by a SOURCE_READERS entry)


class ClassificationData(Section):
    """`format: classification`: {"text", "label"} records (ChnSentiCorp layout) become prompts whose
    answer is the label's name. An integer label indexes `labels`; a string must be one of them."""

    labels: list[str] = Field(min_length=2)
    text_key: str = "text"
    label_key: str = "label"
    instruction: str = "Classify the sentiment of the text. Answer with one word: {labels}."

    @field_validator("labels", mode="after")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value) or not all(label.strip() for label in value):
            raise ValueError("labels must be distinct, non-empty names")
        return value


STYLE_TEMPLATES = ("rewrite", "continue", "summarize_expand")
# The writing tasks' instructions ({title}: the article's title from meta.json, else its first heading).
STYLE_INSTRUCTIONS = {
    "rewrite": "Rewrite this passage from my article \"{title}\" in my own style.",
    "continue": "Continue my article \"{title}\" in my own style.",
    "summarize_expand": "Expand these notes from my article \"{title}\" into a full passage in my own style.",
}


class MarkdownData(Section):
    """`format: markdown`: a folder of Markdown articles, each with a meta.json beside it, cleaned and cut
    into chunks of chunk_min_tokens..chunk_max_tokens tokens, each chunk becoming one sample per template
    (tuneforge/data/markdown.py cleans and chunks, tuneforge/data/style_tasks.py builds the tasks)."""

    chunk_min_tokens: PositiveInt = 300
    chunk_max_tokens: PositiveInt = 800
    tokenizer: str | None = None  # None: model.base (chunks are measured in the base model's tokens)
    templates: list[Literal[STYLE_TEMPLATES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(STYLE_TEMPLATES), min_length=1)
    instructions: dict[str, str] = Field(default_factory=dict)  # per template; unset ones keep the default
    require_meta: bool = True  # false: an article without meta.json is read as if it had an empty one
    skip_drafts: bool = True  # articles whose meta.json says "draft": true are skipped (and counted)

    @field_validator("instructions", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        return {**STYLE_INSTRUCTIONS, **value} if isinstance(value, dict) else value

    @field_validator("instructions", mode="after")
    @classmethod
    def _known_templates(cls, value: dict[str, str]) -> dict[str, str]:
        import string

        for name, text in value.items():
            if name not in STYLE_TEMPLATES:
                raise ValueError(f"unknown template {name!r}; the templates are {', '.join(STYLE_TEMPLATES)}")
            fields = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
            if not text.strip() or fields - {"title"}:
                raise ValueError(f"instructions.{name} must be non-empty text whose only placeholder is {{title}}")
        return value

    @model_validator(mode="after")
    def _room_for_chunks(self) -> MarkdownData:
        if self.chunk_max_tokens < 2 * self.chunk_min_tokens:
            raise ValueError("chunk_max_tokens must be at least twice chunk_min_tokens (so a short tail "
                             "can always be balanced with the chunk before it)")
        return self


class ParallelData(Section):
    """`format: parallel`: folders of Moses-style files (corpus.en + corpus.zh_tw + ...), paired by stem;
    every aligned line becomes one sample per direction (tuneforge/data/parallel.py)."""

    languages: list[str] | None = None  # codes to read (en, ja, zh, zh_tw, zh_hant); None: every language found
    directions: list[str] | None = None  # SOURCE-TARGET, e.g. [en-zh_TW, zh_TW-en]; None: both ways, every pair

    @field_validator("languages", mode="after")
    @classmethod
    def _language_tags(cls, value: list[str] | None) -> list[str] | None:
        from tuneforge.data.parallel import language_tag

        return None if value is None else list(dict.fromkeys(language_tag(code) for code in value))

    @field_validator("directions", mode="after")
    @classmethod
    def _directions(cls, value: list[str] | None) -> list[str] | None:
        from tuneforge.data.parallel import parse_direction

        return None if value is None else ["-".join(parse_direction(text)) for text in value]

    @model_validator(mode="after")
    def _directions_in_languages(self) -> ParallelData:
        if self.languages and self.directions:
            outside = [d for d in self.directions if not set(d.split("-", 1)) <= set(self.languages)]
            if outside:
                raise ValueError(f"directions {outside} use languages outside languages {self.languages}")
        return self


class DataSection(Section):
    format: Literal["chat", "sharegpt", "alpaca", "classification", "markdown", "parallel"]
    train: list[Path] = Field(min_length=1)
    system_prompt: str | None = None
    subset: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    split: SplitSection = Field(default_factory=SplitSection)
    filter: FilterSection = Field(default_factory=FilterSection)
    assistant_only_loss: bool = True
    packing: bool = False
    classification: ClassificationData | None = None  # required by format: classification
    markdown: MarkdownData | None = None  # format: markdown (its defaults when left out)
    parallel: ParallelData | None = None  # format: parallel (its defaults when left out)

    @field_validator("train", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, Path)) else value

    @field_validator("train", mode="after")
    @classmethod
    def _files_exist(cls, value: list[Path], info: ValidationInfo) -> list[Path]:
        folders_allowed = info.data.get("format") in FOLDER_FORMATS
        return [_resolve_existing_file(path, info, folders_allowed) for path in value]

    @model_validator(mode="after")
    def _classification_needs_labels(self) -> DataSection:
        if (self.format == "classification") != (self.classification is not None):
            raise ValueError("data.classification (labels, ...) goes with format: classification, and only with it")
        return self

    @model_validator(mode="after")
    def _markdown_settings(self) -> DataSection:
        if self.markdown is not None and self.format != "markdown":
            raise ValueError("data.markdown goes with format: markdown, and only with it")
        if self.format == "markdown" and self.markdown is None:
            self.markdown = MarkdownData()
        return self

    @model_validator(mode="after")
    def _parallel_settings(self) -> DataSection:
        if self.parallel is not None and self.format != "parallel":
            raise ValueError("data.parallel goes with format: parallel, and only with it")
        if self.format == "parallel" and self.parallel is None:
            self.parallel = ParallelData()
        return self


class TrainSection(Section):
    epochs: Annotated[float, Field(gt=0)] = 1.0
    max_steps: PositiveInt | None = None
    batch_size: PositiveInt = 2
    grad_accum: PositiveInt = 4
    lr: Annotated[float, Field(gt=0, lt=1)] = 2e-4
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    warmup_ratio: Fraction = 0.03
    weight_decay: Annotated[float, Field(ge=0)] = 0.0
    max_grad_norm: Annotated[float, Field(gt=0)] = 1.0
    optim: Literal[tuple(OPTIMIZERS)] = "auto"  # type: ignore[valid-type]
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    # auto: Unsloth's offloaded checkpointing on a GPU; off on a CPU (it costs ~40% more compute there
    # and host memory is rarely the limit). "unsloth" or true forces it, false turns it off.
    gradient_checkpointing: Literal["auto", "unsloth"] | bool = "auto"
    seed: int = 3407
    logging_steps: PositiveInt = 10
    eval_steps: PositiveInt | None = 100
    save_steps: PositiveInt = 100
    save_total_limit: PositiveInt = 3


class PersonaEval(Section):
    """Does the tuned model adopt a persona on prompts it never saw?"""

    prompts: Path
    system_prompt: str | None = None  # None: data.system_prompt
    name_markers: list[str] = Field(min_length=1)
    style_markers: list[str] = Field(default_factory=list)
    max_new_tokens: PositiveInt = 64

    @field_validator("prompts", mode="after")
    @classmethod
    def _prompts_exist(cls, value: Path, info: ValidationInfo) -> Path:
        return _resolve_existing_file(value, info)


class ClassificationEval(Section):
    """Label metrics on the test split, base vs tuned, confidence and robustness (format: classification)."""

    max_samples: PositiveInt | None = None
    batch_size: PositiveInt = 16
    low_confidence: Fraction = 0.6  # predictions below this are listed in confidence_analysis.json


class DomainJudge(Section):
    """An LLM judge behind any OpenAI-compatible API (or `tuneforge eval RUN --judge-url URL`)."""

    # http(s)://host:port/v1, or a run/export folder (or recipe name) that llama.cpp serves for the evaluation
    base_url: str = Field(min_length=1)
    model: str | None = None  # None: the first model the endpoint lists
    api_key_env: str | None = None  # name of the environment variable that holds the key
    retries: Annotated[int, Field(ge=0, le=10)] = 2  # extra attempts after a reply that is not valid score JSON
    # auto: llamacpp_schema for a run/export folder (llama-cpp-python's schema-constrained JSON mode),
    # json_object for a URL; json_schema: OpenAI structured outputs (OpenAI, vLLM); text: no constraint.
    response_format: Literal["auto", "json_schema", "json_object", "llamacpp_schema", "text"] = "auto"
    max_tokens: PositiveInt = 384
    timeout_s: Annotated[float, Field(gt=0)] = 120.0
    judge_base: bool = True  # also judge the base model's answers (twice the judge calls)


class DomainEval(Section):
    """Reference metrics (ROUGE-L, BLEU) on the test split, base vs tuned, and an optional LLM judge."""

    max_samples: PositiveInt | None = None
    max_new_tokens: PositiveInt = 256
    batch_size: PositiveInt = 8
    bleu_tokenize: Literal["auto", "13a", "zh", "intl", "char"] = "auto"  # auto: zh when references hold CJK
    judge: DomainJudge | None = None  # None: the judge is skipped (with a logged note)


class StyleEval(Section):
    """Perplexity (validation split), style indicators of continuations vs the author's corpus, base vs
    tuned, and a blind A/B sheet (format: markdown with the continue template)."""

    max_samples: PositiveInt | None = 24  # continuation prompts from the validation split
    max_new_tokens: PositiveInt = 160
    batch_size: PositiveInt = 8
    temperature: Annotated[float, Field(ge=0)] = 0.0  # 0: greedy, the same text on every run
    top_p: Annotated[float, Field(gt=0, le=1)] = 0.95  # with temperature > 0
    repetition_penalty: Annotated[float, Field(ge=1)] = 1.15  # small models loop without one
    seed: int = 0  # sampling and the A/B order
    top_words: PositiveInt = 30  # words compared between generated text and the author's corpus
    ttr_window: PositiveInt = 50  # type-token ratio over moving windows of this many words


class TranslationEval(Section):
    """sacrebleu BLEU (n-gram precisions, brevity penalty, length ratio) and chrF per direction on the
    test split, base vs tuned (format: parallel)."""

    max_samples: PositiveInt | None = None  # per direction; None: the whole test split
    max_new_tokens: PositiveInt = 128
    batch_size: PositiveInt = 16


class EvalSection(Section):
    held_out_loss: bool = True
    persona: PersonaEval | None = None
    classification: ClassificationEval | None = None
    domain: DomainEval | None = None
    style: StyleEval | None = None
    translation: TranslationEval | None = None


class ExportSection(Section):
    """Read by `tuneforge export` (export issue); validated here so typos fail early."""

    formats: list[Literal[tuple(EXPORT_FORMATS)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["merged", "gguf"], min_length=1)
    quants: list[Literal[tuple(GGUF_QUANTS)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["q8_0"], min_length=1)


class ServeSection(Section):
    """Read by `tuneforge serve`, `chat` and `predict`; validated here so typos fail early."""

    backend: Literal["llamacpp", "vllm"] = "llamacpp"
    host: str = "127.0.0.1"  # loopback: reachable from this machine only
    port: Annotated[int, Field(gt=0, lt=65536)] = 8000
    n_ctx: PositiveInt = 2048  # context per request (llama.cpp: per slot), prompt and reply together
    parallel: PositiveInt = 8  # llama.cpp's slots decoded together by continuous batching; KV memory grows with n_ctx × parallel


class Recipe(Section):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    description: str = ""
    model: ModelSection = Field(default_factory=ModelSection)
    lora: LoraSection = Field(default_factory=LoraSection)
    data: DataSection
    train: TrainSection = Field(default_factory=TrainSection)
    eval: EvalSection = Field(default_factory=EvalSection)
    export: ExportSection = Field(default_factory=ExportSection)
    serve: ServeSection = Field(default_factory=ServeSection)

    @model_validator(mode="after")
    def _consistent(self) -> "Recipe":
        if self.data.split.val + self.data.split.test >= 0.9:
            raise ValueError("data.split.val + data.split.test must leave at least 10% for training")
        if self.eval.held_out_loss and self.data.split.val == 0:
            raise ValueError("eval.held_out_loss needs a validation split: set data.split.val > 0")
        return self

    @model_validator(mode="after")
    def _style_settings(self) -> "Recipe":
        markdown = self.data.markdown
        if markdown is not None and markdown.tokenizer is None:
            markdown.tokenizer = self.model.base  # written out, so the resolved recipe says what measured chunks
        if self.eval.style is not None and (markdown is None or "continue" not in markdown.templates):
            raise ValueError("eval.style needs data.format: markdown with the 'continue' template (its prompts)")
        return self

    @model_validator(mode="after")
    def _translation_settings(self) -> "Recipe":
        if self.eval.translation is not None and self.data.format != "parallel":
            raise ValueError("eval.translation needs data.format: parallel (its test split is sentence pairs)")
        return self


# ---------------------------------------------------------------- loading

class _StrictLoader(yaml.SafeLoader):
    """safe_load that also refuses duplicate keys (PyYAML silently keeps the last one)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark)
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
                raise UserError(f"override {text!r}: {'.'.join(keys[:depth + 1])} is not a section")
            node = child
        node[keys[-1]] = value
    return raw


def _format_error(error: dict) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "(recipe)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{location}: unknown key (check the spelling; `tuneforge recipes show` lists the valid keys)"
    if error["type"] == "missing":
        return f"{location}: required key is missing"
    return f"{location}: {message} (got {error.get('input')!r})"


def validate_recipe(raw: Any, source: Path) -> Recipe:
    if not isinstance(raw, dict):
        raise UserError(f"{source}: a recipe must be a YAML mapping of sections, got {type(raw).__name__}")
    try:
        return Recipe.model_validate(raw, context={"base_dir": source.parent})
    except ValidationError as exc:
        problems = ProblemCollector(f"invalid recipe {source}")
        for error in exc.errors():
            problems.add(_format_error(error))
        problems.raise_if_any(fix="edit the recipe or the -o override named above")
        raise  # unreachable: there is always at least one error


def load_recipe(ref: str | Path, overrides: list[str] | None = None) -> tuple[Recipe, Path]:
    """Find, read, override and validate a recipe. Returns it with its source path."""
    source = find_recipe(ref)
    raw = read_yaml(source) or {}
    if isinstance(raw, dict):
        raw = apply_overrides(raw, overrides or [])
    return validate_recipe(raw, source), source


def recipe_to_yaml(recipe: Recipe) -> str:
    return yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
