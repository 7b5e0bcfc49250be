"""The evaluation kit the tasks share (the `tuneforge eval` stage itself is tuneforge.evaluate).

kit.py: the base-vs-tuned loop, the held-out split and the shape of an artifact metric; metrics.py:
BLEU, chrF and ROUGE-L; generate.py: batched generation and scoring with a run's adapter;
answerers.py: one interface to a model in process or behind an OpenAI-compatible API; judge.py: the
LLM judge and its recipe section; items.py: an evaluation item by item, the shape `tuneforge compare`
reads.
"""
