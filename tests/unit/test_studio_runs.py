"""How the studio reads a run folder: live or dead, progress and ETA, a readable job log, reports with
their images pointed at the run's files."""

from __future__ import annotations

import json
import subprocess

from studio_client import make_studio, studio_client

from tuneforge.process import start_ticks, this_process
from tuneforge.studio.jobs import readable
from tuneforge.studio.run_record import live_status, markdown_html, progress


def test_a_run_whose_process_died_unrecorded_is_dead():
    ended = subprocess.Popen(["sleep", "30"])
    record = {"pid": ended.pid, "host": this_process()["host"], "start_ticks": start_ticks(ended.pid)}
    assert live_status({"status": "running", "process": record}) == "running"
    ended.kill()
    ended.wait()
    assert live_status({"status": "running", "process": record}) == "dead"
    assert live_status({"status": "running", "process": record | {"host": "elsewhere"}}) == "running"  # cannot tell
    assert live_status({"status": "complete", "process": record}) == "complete"


def test_progress_gives_step_of_total_and_an_eta_from_the_pace_so_far():
    records = [
        {"step": 0, "elapsed_s": 5.0, "eval_loss": 3.0},
        {"step": 2, "max_steps": 10, "elapsed_s": 10.0, "loss": 2.5, "train_tokens_per_second": 40.0},
        {"step": 4, "max_steps": 10, "elapsed_s": 18.0, "loss": 2.0, "train_tokens_per_second": 42.0},
    ]
    found = progress(records, {"train": {"max_steps": 99}})
    assert found == {"step": 4, "total": 10, "eta_s": 24, "tokens_per_s": 42.0, "elapsed_s": 18.0}
    assert progress([], {"train": {"max_steps": 99}})["total"] == 99  # before the first record: the recipe's


def test_a_job_log_reads_as_the_terminal_left_it():
    log = "loading\n  0%|  | 0/8\r 50%|# | 4/8\r100%|##| 8/8\x1b[A\ndone\n"
    assert readable(log) == "loading\n100%|##| 8/8\ndone\n"


def test_a_report_links_its_images_to_the_run_files(tmp_path):
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "report.md").write_text("# Report\n\n![loss](persona.png)\n\n<script>x</script>\n")
    html = markdown_html(tmp_path, "eval/report.md", "/runs/q/1/files")
    assert 'src="/runs/q/1/files/eval/persona.png"' in html
    assert "<script>" not in html  # a report's HTML is shown as text


def test_the_metrics_endpoint_hands_out_new_lines_only(tmp_path):
    studio = make_studio(tmp_path)
    run = studio.runs_dir / "quickstart" / "20261207-000000"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"status": "running", "process": this_process()}))
    lines = [{"step": step, "max_steps": 4, "elapsed_s": step, "loss": 1.0 / (step + 1)} for step in range(3)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"step": 3, "lo')
    client = studio_client(tmp_path, studio)
    first = client.get("/api/runs/quickstart/20261207-000000/metrics").json()
    assert [r["step"] for r in first["records"]] == [0, 1, 2] and first["next"] == 3  # the half-written line waits
    assert first["status"] == "running" and first["progress"]["total"] == 4
    later = client.get("/api/runs/quickstart/20261207-000000/metrics?after=2").json()
    assert [r["step"] for r in later["records"]] == [2]
    page = client.get("/runs/quickstart/20261207-000000")
    assert page.status_code == 200 and 'id="run-status">running' in page.text
