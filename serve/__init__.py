"""Serve stage (installed as tuneforge.serve): llama.cpp and vLLM behind an OpenAI-compatible API."""
