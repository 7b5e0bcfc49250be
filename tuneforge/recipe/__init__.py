"""The recipe: one YAML file, validated by a strict pydantic v2 schema.

- schema.py: the core sections (model, lora, data, train, eval, export, serve) and their defaults
- paths.py: recipe-relative paths, checked to exist
- assemble.py: the Recipe model of the registered tasks (data formats, eval sections) and methods
  (train.<method> sections)
- checks.py: problems that span sections (the core's, the method's, each task's)
- messages.py: pydantic's errors as key paths with their fixes
- validate.py: validate_recipe, every problem reported together
- loading.py: finding and reading recipe files, -o overrides and profiles
- explain.py: `tuneforge recipes show --explain`
"""
