"""The report as the PDF prints it: text in figures no smaller than 7 pt at print size, colour bars labelled at both
ends, each h1 section on a new page, and no heading left at a page's foot without what follows it."""

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest

from grokgpt import document, plots, sweepplots


def test_a_figure_wider_than_the_page_prints_its_text_smaller_and_save_figure_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GROKGPT_ROOT", str(tmp_path))
    plots.use_style()
    fig, ax = plt.subplots(figsize=(2 * plots.PRINT_BOX[0], 3))
    ax.set_title("ten points", fontsize=10)
    assert plots.printed_pt(fig) < 0.7 * 10  # drawn twice as wide as the page: printed at about 60%
    with pytest.warns(UserWarning, match="prints at"):
        plots.save_figure(fig, "00_wide")
    fig, ax = plt.subplots(figsize=(plots.PRINT_BOX[0] / 2, 2))
    ax.set_title("seven points", fontsize=7)
    assert plots.printed_pt(fig) > 7  # a small figure is printed larger
    plt.close("all")


def _summary(fracs, wds):
    rows = [dict(train_frac=f, weight_decay=w, median_held=1000.0 * (i + 1), runs=3, held=3, fitted=3, budget=12000)
            for i, (f, w) in enumerate((f, w) for f in fracs for w in wds)]  # fmt: skip
    return pd.DataFrame(rows).set_index(["train_frac", "weight_decay"])


def test_the_phase_diagram_prints_readably_and_labels_both_ends_of_its_colour_bar():
    s = _summary([0.2, 0.3, 0.4, 0.5, 0.8], [0.1, 0.3, 1.0, 3.0])
    fig = sweepplots.phase(s, title="a / b mod 97: median steps to val held")
    bar = fig.axes[-1]
    fig.canvas.draw()
    labels = [t.get_text() for t in bar.get_yticklabels() if t.get_text()]
    assert labels[0] == "1,000" and labels[-1] == "20,000"  # the fastest and the slowest median
    assert plots.printed_pt(fig) >= plots.MIN_PRINT_PT
    plt.close(fig)


def test_many_panels_still_print_at_7_pt():
    steps = [0, 10, 20, 40]
    m = pd.DataFrame([dict(run=f"r{p}{s}", p=p, seed=s, step=t, split=sp, acc=0.5, loss=1.0)
                      for p in (97, 113) for s in range(3) for t in steps for sp in ("train", "val")])  # fmt: skip
    for fig in (plots.grid(m, "acc", row="p", col="seed", title="p = 97 and 113"),
                plots.panels(m, ["loss", "acc"], title="the sentence")):  # fmt: skip
        assert plots.printed_pt(fig) >= plots.MIN_PRINT_PT
    plt.close("all")


def _first_pages(html: str) -> dict[str, int]:
    """The page (0-based) on which each h1, h2 and paragraph of an HTML page starts, by its first 12 characters."""
    from weasyprint import CSS, HTML

    page = CSS(string="@page { size: A4; margin: 14mm 14mm 18mm } body { font-size: 10pt }")  # as pipeline's
    where = {}
    for i, p in enumerate(HTML(string=html).render(stylesheets=[page]).pages):
        for box in p._page_box.descendants():
            if getattr(box, "element_tag", "") in ("h1", "h2", "p") and box.element is not None:
                where.setdefault("".join(box.element.itertext()).strip()[:12], i)
    return where


def test_each_h1_starts_a_page_and_no_heading_is_parted_from_what_follows():
    """As nbconvert's lab template exports notebooks (cells as flex rows and CSS tables, each heading in a cell of
    its own here), with the report's style: print must still break before h1 and keep h2 with its paragraph."""
    from nbconvert import HTMLExporter

    cells = [nbformat.v4.new_markdown_cell("# One\n\nThe first section.")]
    for k in range(30):
        cells += [nbformat.v4.new_markdown_cell(f"## Heading {k:02d}"),
                  nbformat.v4.new_markdown_cell(f"Paragraph {k:02d} " + "words of the section " * 25)]  # fmt: skip
    cells.append(nbformat.v4.new_markdown_cell("# Two\n\nThe second section."))
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True)
    html, _ = exporter.from_notebook_node(nbformat.v4.new_notebook(cells=cells))
    where = _first_pages(html.replace("</head>", document.STYLE + "</head>", 1))
    at = lambda text: next(page for key, page in where.items() if key.startswith(text))  # noqa: E731
    assert at("Two") == at("Paragraph 29") + 1 and at("Two") > 1  # a new page, after several
    assert all(at(f"Heading {k:02d}") == at(f"Paragraph {k:02d}") for k in range(30))
