"""The docs cannot rot silently: links, anchors, named commands, repo paths and snippets."""

import ast
import importlib
import importlib.util
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
# The two commands the README promises first, exactly as dev.py's docstring names them.
FIRST_COMMANDS = ("python3 dev.py run", "python3 dev.py test")
README_MAX_LINES = 150
# Top-level folders and packages whose paths the docs may name.
REPO_PREFIXES = ("config", "catalog", "cutouts", "tests", "deploy", "static", "templates",
                 "docs", ".ci")
# Files a snippet creates itself (the destination of its `cp`), so they need not exist.
CREATED_BY_SNIPPETS = {"deploy/.env"}

FENCE_RE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
LINK_RE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
CODE_SPAN_RE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
PATH_RE = re.compile(
    rf"(?<![\w/.~$-])((?:{'|'.join(re.escape(p) for p in REPO_PREFIXES)})/[\w./@*{{}},:-]*)")
MODULE_RE = re.compile(r"^(?:config|catalog|cutouts)(?:\.[A-Za-z_]\w*)+$")


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1).lower(), m.group(2)) for m in FENCE_RE.finditer(text)]


def prose(text: str) -> str:
    """The page without its fenced blocks (a link inside a code block is not a link)."""
    return FENCE_RE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation out, '-' for ' '."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps only its text
    text = text.replace("`", "").replace("*", "").strip().lower()
    text = "".join(c for c in text
                   if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for match in HEADING_RE.finditer(prose(path.read_text())):
        base = slug(match.group(2))
        n = seen.get(base, 0)
        out.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return out


def relative_links(path: Path) -> list[str]:
    return [target for target in LINK_RE.findall(prose(path.read_text()))
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]  # http:, https:, mailto:


def expand_braces(token: str) -> list[str]:
    match = re.search(r"\{([^{}]*,[^{}]*)\}", token)
    if not match:
        return [token]
    return [x for part in match.group(1).split(",")
            for x in expand_braces(token[:match.start()] + part + token[match.end():])]


def repo_path_exists(token: str) -> bool:
    """A repo path (globs and one `{a,b}` group allowed); `file.py::name` also needs `def name`."""
    token, _, test_name = token.rstrip(".,:;)").partition("::")
    if not token or token.endswith("/.") or "<" in token:
        return True  # not a path (a sentence's full stop, a placeholder)
    if test_name:
        path = ROOT / token
        return path.is_file() and re.search(rf"^\s*def {re.escape(test_name)}\(",
                                            path.read_text(), re.M) is not None
    return all((list(ROOT.glob(t)) if "*" in t else (ROOT / t).exists())
               for t in expand_braces(token))


def cli_choices(*args: str) -> set[str]:
    """Subcommands an argparse CLI offers, read from its --help (`{run,test}`)."""
    run = subprocess.run([sys.executable, *args, "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    match = re.search(r"\{([\w,-]+)\}", run.stdout)
    assert match, run.stdout
    return set(match.group(1).split(","))


def all_text() -> str:
    return "\n".join(p.read_text() for p in PAGES)


def test_it_has_the_pages_the_readme_promises():
    expected = {"index", "configuration", "ingest", "engine", "jobs", "review", "export", "api",
                "operations", "security", "architecture", "contributing"}
    assert expected <= {p.stem for p in DOCS}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_it_resolves_every_relative_link_and_anchor(page):
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target}: no file {dest.relative_to(ROOT)}")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


# Only the outer markers: a line of exactly seven "=" is also a Setext heading underline.
CONFLICT_RE = re.compile(r"^(<{7}|>{7})( |$)", re.M)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_it_holds_no_merge_conflict_markers(page):
    # Docs are merged by hand from many branches; a left-over marker renders as prose.
    lines = [page.read_text()[: m.start()].count("\n") + 1
             for m in CONFLICT_RE.finditer(page.read_text())]
    assert not lines, f"{page.name}: conflict markers on lines {lines}"


def test_it_sees_the_markers_a_conflict_leaves():
    text = "a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n"
    assert len(CONFLICT_RE.findall(text)) == 2
    assert not CONFLICT_RE.findall("Title\n=======\na <<<<<<< b\n")


def test_it_links_every_docs_page_from_the_index_and_the_readme():
    index_targets = {t.partition("#")[0] for t in relative_links(ROOT / "docs" / "index.md")}
    readme_targets = {t.partition("#")[0] for t in relative_links(README)}
    for page in DOCS:
        if page.stem != "index":
            assert page.name in index_targets, f"docs/index.md does not link {page.name}"
            assert f"docs/{page.name}" in readme_targets, f"README does not link {page.name}"


def test_it_checks_anchors_the_way_github_writes_them():
    assert slug("Why `filesystem://` is the embedded broker") == \
        "why-filesystem-is-the-embedded-broker"
    assert slug("Jobs: one machinery, recovery per kind") == "jobs-one-machinery-recovery-per-kind"
    assert slug("REST API and webhooks") == "rest-api-and-webhooks"


def test_it_names_only_management_commands_that_exist():
    from django.core.management import get_commands

    named = set(re.findall(r"manage\.py\s+([a-z][a-z0-9_]*)", all_text()))
    assert len(named) >= 10, named  # the pattern still finds the commands the docs teach
    missing = named - set(get_commands())
    assert not missing, f"docs name management commands that do not exist: {sorted(missing)}"


def test_it_names_only_dev_py_subcommands_that_exist():
    named = set(re.findall(r"dev\.py\s+([a-z][\w-]*)", all_text()))
    assert {"run", "test"} <= named
    missing = named - cli_choices("dev.py")
    assert not missing, f"docs name dev.py subcommands that do not exist: {sorted(missing)}"


def test_it_names_only_imaging_cli_subcommands_that_exist():
    named = set(re.findall(r"-m\s+cutouts\.imaging\s+([a-z][\w-]*)", all_text()))
    assert {"cut", "speed", "matte", "clicks"} <= named
    missing = named - cli_choices("-m", "cutouts.imaging")
    assert not missing, f"docs name `python -m cutouts.imaging` commands that do not exist: " \
                        f"{sorted(missing)}"


def test_readme_is_short_and_starts_with_the_two_commands():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README has {len(lines)} lines"
    body = [line for line in lines[1:] if line.strip()]
    assert lines[0].startswith("# ") and body[0].startswith("```")
    for line, command in zip(body[1:3], FIRST_COMMANDS, strict=True):
        assert line.startswith(command + " "), (line, command)
    assert body[3] == "```"


def test_it_compiles_every_python_snippet_and_imports_what_it_names():
    snippets = [(page, code) for page in PAGES for lang, code in fenced_blocks(page.read_text())
                if lang in ("python", "py")]
    assert snippets, "no python snippets found: the fence pattern is broken"
    for page, code in snippets:
        tree = compile(code, f"{page.name} snippet", "exec", ast.PyCF_ONLY_AST)
        compile(tree, f"{page.name} snippet", "exec")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.split(".")[0] in ("config", "catalog", "cutouts"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name) or importlib.util.find_spec(
                        f"{node.module}.{alias.name}"), \
                        f"{page.name}: {node.module} has no {alias.name}"


def test_it_names_only_repo_paths_that_exist_in_shell_snippets():
    checked, missing = 0, []
    for page in PAGES:
        for lang, code in fenced_blocks(page.read_text()):
            if lang not in ("sh", "bash", "shell", "console", ""):
                continue
            for token in PATH_RE.findall(code):
                checked += 1
                if token not in CREATED_BY_SNIPPETS and not repo_path_exists(token):
                    missing.append(f"{page.name}: {token}")
    assert checked >= 10, checked
    assert not missing, missing


def test_every_file_a_snippet_creates_is_still_created_by_one():
    text = all_text()
    for path in CREATED_BY_SNIPPETS:
        assert re.search(rf"\bcp\s+\S+\s+{re.escape(path)}\b", text), path


def test_it_names_only_repo_paths_and_modules_that_exist_in_prose():
    paths = modules = 0
    missing = []
    for page in PAGES:
        for span in CODE_SPAN_RE.findall(prose(page.read_text())):
            span = re.sub(r"\(.*\)$", "", span.strip())  # `module.function(arg)` names function
            if PATH_RE.fullmatch(span):
                paths += 1
                if not repo_path_exists(span):
                    missing.append(f"{page.name}: path {span}")
            elif MODULE_RE.match(span):
                modules += 1
                if not dotted_name_exists(span):
                    missing.append(f"{page.name}: module or attribute {span}")
    assert paths >= 20 and modules >= 5, (paths, modules)
    assert not missing, missing


def dotted_name_exists(dotted: str) -> bool:
    """`pkg.module[.attr...]`: find the module without running it unless attributes follow."""
    parts = dotted.split(".")
    for i in range(1, len(parts) + 1):
        spec = importlib.util.find_spec(".".join(parts[:i]))
        if spec is None:
            if i == 1:
                return False
            obj = importlib.import_module(".".join(parts[:i - 1]))
            for attr in parts[i - 1:]:
                if not hasattr(obj, attr):
                    return False
                obj = getattr(obj, attr)
            return True
        if spec.submodule_search_locations is None and i < len(parts):
            obj = importlib.import_module(".".join(parts[:i]))
            for attr in parts[i:]:
                if not hasattr(obj, attr):
                    return False
                obj = getattr(obj, attr)
            return True
    return True


def test_the_checkers_fail_on_broken_references(tmp_path):
    assert not repo_path_exists("cutouts/no_such_module.py")
    assert not repo_path_exists("deploy/systemd/*.nothing")
    assert repo_path_exists("cutouts/imaging/{models,matting}.py")
    assert not repo_path_exists("cutouts/imaging/{models,nothing}.py")
    assert repo_path_exists("tests/test_docs.py::test_the_checkers_fail_on_broken_references")
    assert not repo_path_exists("tests/test_docs.py::test_it_does_not_exist")
    assert not dotted_name_exists("cutouts.imaging.models.NO_SUCH_THING")
    assert not dotted_name_exists("cutouts.no_such_module")
    assert dotted_name_exists("cutouts.imaging.models.REGISTRY")
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## Sub `part`\n\n[x](#sub-part) [y](#gone) [z](other.md)\n"
                    "```sh\n[not](a-link.md)\n```\n")
    assert anchors(page) == {"title", "sub-part"}
    assert relative_links(page) == ["#sub-part", "#gone", "other.md"]
