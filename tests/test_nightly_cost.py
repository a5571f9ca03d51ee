"""ssmspec.nightly_cost: pytest's --durations rows parsed, attributed to primitives, scaled."""

import pytest

from ssmspec import nightly_cost as nc

NAMES = ["diag_kernel", "diag_kernel_x", "linear_scan"]

OUTPUT = """\
........                                                                 [100%]
============================= slowest durations ==============================
2.00s call     properties/test_conformance.py::test_within_bound[linear_scan-torch-seq-fp32-cpu]
0.50s setup    properties/test_conformance.py::test_within_bound[linear_scan-torch-seq-fp32-cpu]
1.00s call     properties/test_mutants.py::test_mutant_caught_on_witness[linear_scan-eps-fp32]
0.25s call     properties/test_laws.py::test_law[diag_kernel_x-linearity-torch-fp64-cpu]
3.00s call     properties/test_laws.py::test_law[diag_kernel-linearity-torch-fp64-cpu]
0.10s call     properties/test_hippo_laws.py::test_law_blind_to_mutant[flip-legs]
(12 durations < 0.005s hidden.)
8 passed in 7.01s
"""


def test_parse_durations_reads_rows_only():
    rows = nc.parse_durations(OUTPUT)
    assert len(rows) == 6
    assert rows[1] == nc.Duration(
        "properties/test_conformance.py::test_within_bound[linear_scan-torch-seq-fp32-cpu]",
        "setup", 0.5)


def test_primitive_of_takes_the_longest_name_followed_by_a_dash():
    assert nc.primitive_of("p.py::test_law[diag_kernel_x-lin-torch]", NAMES) == "diag_kernel_x"
    assert nc.primitive_of("p.py::test_law[diag_kernel-lin-torch]", NAMES) == "diag_kernel"
    assert nc.primitive_of("p.py::test_x[diag_kernelish-a]", NAMES) == nc.OTHER
    assert nc.primitive_of("p.py::test_plain", NAMES) == nc.OTHER


def test_aggregate_scales_only_the_calls_of_scaled_tests():
    costs = {c.primitive: c for c in nc.aggregate(nc.parse_durations(OUTPUT), NAMES, 10.0)}
    ls = costs["linear_scan"]
    assert ls.measured == pytest.approx(3.5) and ls.tests == 2
    assert ls.nightly == pytest.approx(2.0 * 10 + 0.5 + 1.0)  # setup and witness unscaled
    assert costs["diag_kernel"].nightly == pytest.approx(30.0)
    assert costs["diag_kernel_x"].nightly == pytest.approx(2.5)
    assert costs[nc.OTHER].nightly == pytest.approx(0.1)
    order = [c.primitive for c in nc.aggregate(nc.parse_durations(OUTPUT), NAMES, 10.0)]
    assert order == ["diag_kernel", "linear_scan", "diag_kernel_x", nc.OTHER]
    assert sum(costs[p].share for p in costs) == pytest.approx(1.0)
    assert costs["diag_kernel"].share == pytest.approx(30.0 / 54.1)


def test_aggregate_rejects_a_bad_factor():
    with pytest.raises(ValueError, match="factor"):
        nc.aggregate([], NAMES, 0)


def test_markdown_table_and_main_on_a_saved_output(tmp_path, capsys):
    f = tmp_path / "durations.txt"
    f.write_text(OUTPUT.replace("diag_kernel_x", "diag_kernel"))
    assert nc.main(["--durations", str(f), "--profile", "ci"]) == 0
    out = capsys.readouterr().out
    assert "| diag_kernel | 1 | 3.2 | 54 | " in out  # one id, (3 + 0.25) × 500/30
    assert "nightly/ci" in out and "**total**" in out
    f.write_text("no rows here\n")
    assert nc.main(["--durations", str(f)]) == 1
    with pytest.raises(SystemExit):
        nc.main(["--durations", str(f), "--primitive", "nope"])
