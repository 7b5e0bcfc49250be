"""Export stage (installed as tuneforge.export): merged weights, GGUF, Ollama, vLLM. See the export issue."""
