"""Render README.md from nbs/index.ipynb (nbdev's own `nbdev-readme` needs Quarto; this needs only nbformat).

Markdown cells are copied as they are; code cells show their outputs (text and markdown), never their source
unless tagged `show`; cells whose first line is `#| hide` are left out.
"""
import sys
from pathlib import Path
import nbformat

root = Path(__file__).resolve().parents[1]
nb = nbformat.read(root/"nbs"/"index.ipynb", as_version=4)
parts = []
for c in nb.cells:
    src = c.source
    if src.lstrip().startswith("#| hide"): continue
    if c.cell_type == "markdown": parts.append(src.strip()); continue
    if c.cell_type != "code": continue
    if "show" in c.metadata.get("tags", []):
        body = "\n".join(l for l in src.splitlines() if not l.startswith("#|"))
        parts.append(f"```python\n{body}\n```")
    for o in c.get("outputs", []):
        if o.output_type == "stream": parts.append(f"```\n{o.text.rstrip()}\n```")
        elif "text/markdown" in o.get("data", {}): parts.append(o.data["text/markdown"].strip())
        elif "text/plain" in o.get("data", {}): parts.append(f"```\n{o.data['text/plain'].rstrip()}\n```")
text = "<!-- GENERATED from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file -->\n\n" + "\n\n".join(parts) + "\n"
out = root/"README.md"
if not out.exists() or out.read_text() != text:
    out.write_text(text)
    print("README.md written", file=sys.stderr)
