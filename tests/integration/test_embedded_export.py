"""The embedded SmolLM2's export (the conftest `embedded_export`: merged, F16 + Q8_0 GGUF, Ollama,
vLLM), checked from the files themselves: fidelity against the merged model, the chat template and
EOS carried into the GGUF, and a Q4_K_M quantized from the same F16 file that loads and answers."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def artifacts(embedded_export):
    return json.loads((embedded_export / "export.json").read_text())["artifacts"]


def test_ggufs_agree_with_the_merged_model(artifacts):
    assert artifacts["f16"]["top1_agreement"] >= 0.98
    assert artifacts["q8_0"]["top1_agreement"] >= 0.9
    assert artifacts["f16"]["perplexity"] == pytest.approx(artifacts["merged"]["perplexity"], rel=0.02)


def test_the_gguf_carries_the_chat_template_and_eos(embedded_export, artifacts):
    from gguf import GGUFReader
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(embedded_export / "merged"))
    fields = GGUFReader(str(embedded_export / artifacts["q8_0"]["file"])).fields
    template = fields["tokenizer.chat_template"]
    assert bytes(template.parts[template.data[0]]).decode() == tokenizer.chat_template
    eos = fields["tokenizer.ggml.eos_token_id"]
    assert int(eos.parts[eos.data[0]][0]) == tokenizer.convert_tokens_to_ids("<|im_end|>")


def test_q4_k_m_loads_and_answers(embedded_export, artifacts, tmp_path):
    from tuneforge.export.gguf import quantize
    from tuneforge.serve.llamacpp import cpu_has_amx, load_llama

    q4 = quantize(embedded_export / artifacts["f16"]["file"], tmp_path / "model.Q4_K_M.gguf", "q4_k_m")
    assert q4.stat().st_size < 0.5 * (embedded_export / artifacts["f16"]["file"]).stat().st_size
    llm = load_llama(q4, n_ctx=256, verbose=False)
    assert llm.model_params.use_extra_bufts is not cpu_has_amx()  # no AMX repacking, see cpu_has_amx
    reply = llm.create_chat_completion([{"role": "user", "content": "Say hello."}], max_tokens=12, temperature=0)
    assert reply["usage"]["completion_tokens"] > 0 and reply["choices"][0]["message"]["content"].strip()
