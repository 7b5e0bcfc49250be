"""The integration tier trains: it imports unsloth before anything loads transformers, as
`tuneforge train` does (unsloth patches transformers on import), so that what these tests
exercise is the patched stack users run. The unit tier never loads unsloth."""

import unsloth  # noqa: F401
