"""Export stage (installed as tuneforge.export): merged weights, GGUF, Ollama, vLLM, with a fidelity check."""
