"""tuneforge studio: the whole path (recipe, data, training, runs, evaluation, export, chat) in a browser.

A second front end beside the CLI. It reads run folders, recipes and reports from disk through the
core, and runs long work (train, eval, export, serve) as the same `tuneforge` commands the CLI runs, in
processes of their own, so closing the browser or restarting the studio loses nothing.

    tuneforge studio [--port 7860] [--runs-dir runs]      (make studio)

FastAPI renders the pages on the server (Jinja2) with a little script of our own for live charts and
forms; docs/studio.md says why this is not Gradio.
"""
