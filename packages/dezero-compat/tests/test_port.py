"""dezero-port: rewriting rules, the command, and the launcher outside the namespace."""

from __future__ import annotations

import os
import subprocess
import sys
import types

from dezero.compat.port import main, port_source


def _imports(src):
    return [line for line in src.splitlines() if "import" in line]


def test_same_meaning_goes_native_and_the_rest_to_compat():
    src = (
        "import numpy as np\n"
        "from dezero import Variable, no_grad\n"
        "import dezero.functions as F\n"
        "import dezero.layers as L\n"
        "y = F.relu(F.linear(x, W))\n"
        "l = L.Linear(3)\n"
    )
    r = port_source(src)
    assert _imports(r.source) == [
        "import numpy as np",
        "from dezero.core import no_grad",
        "from dezero.compat import Variable",
        "import dezero.nn.functions as F",
        "import dezero.nn.layers as L",
    ]
    assert r.source.endswith("y = F.relu(F.linear(x, W))\nl = L.Linear(3)\n")
    why = {what: reason for _, what, reason in r.notes}
    assert "existing .grad" in why["Variable -> dezero.compat"]


def test_a_module_using_a_name_with_another_meaning_goes_to_compat():
    src = "import dezero.functions as F\ny = F.binary_cross_entropy(p, t) + F.relu(x)\n"
    r = port_source(src)
    assert _imports(r.source) == ["import dezero.compat.functions as F"]
    assert "clips p" in r.notes[0][2]
    src = "import dezero.functions as F\ng = F\n"  # the module itself is passed around
    assert _imports(port_source(src).source) == ["import dezero.compat.functions as F"]


def test_seeded_scripts_keep_dezeros_draws():
    src = "import numpy as np\nimport dezero.layers as L\nnp.random.seed(0)\nl = L.Linear(2)\n"
    r = port_source(src)
    assert "import dezero.compat.layers as L" in r.source
    assert "NumPy's global generator" in r.notes[0][2]


def test_plain_import_dezero_and_indentation_and_compat_only():
    src = ("import dezero\nif True:\n    from dezero.models import MLP\n"
           "m = dezero.models.MLP((2,))\n")
    r = port_source(src)
    assert r.source.splitlines()[0] == "import dezero.compat as dezero"
    assert r.source.splitlines()[2] == "    from dezero.nn.models import MLP"
    r = port_source("import dezero.functions as F\nF.relu(x)\n", compat_only=True)
    assert _imports(r.source) == ["import dezero.compat.functions as F"]
    untouched = "import dezero.nn.functions as F\nimport os\n"
    assert port_source(untouched).source == untouched and not port_source(untouched).changed
    r = port_source("from dezero.utils import gradient_check, plot_dot_graph\n")
    assert _imports(r.source) == [
        "from dezero.core import plot_dot_graph",
        "from dezero.compat.utils import gradient_check",
    ]


def test_the_ported_script_runs(tmp_path):
    src = (
        "import numpy as np\nfrom dezero import Variable\nimport dezero.functions as F\n"
        "x = Variable(np.array(2.0))\ny = F.sin(x) * x\ny.backward()\nprint(x.grad.data)\n"
    )
    p = tmp_path / "s.py"
    p.write_text(src)
    assert main([str(p)]) == 0
    out = subprocess.run([sys.executable, str(p)], capture_output=True, text=True, timeout=120)
    import math

    assert abs(float(out.stdout) - (math.cos(2) * 2 + math.sin(2))) < 1e-12


def test_command_diff_and_errors(tmp_path, capsys):
    p = tmp_path / "a.py"
    p.write_text("from dezero import Variable\n")
    assert main(["--diff", str(p)]) == 0
    out = capsys.readouterr().out
    assert "-from dezero import Variable" in out
    assert "+from dezero.compat import Variable" in out
    assert p.read_text() == "from dezero import Variable\n"  # --diff writes nothing
    bad = tmp_path / "bad.py"
    bad.write_text("def (:\n")
    assert main([str(bad), str(tmp_path / "none.py")]) == 1
    err = capsys.readouterr().err
    assert "bad.py: SyntaxError" in err and "none.py: FileNotFoundError" in err
    assert bad.read_text() == "def (:\n"


def test_launcher_explains_a_shadowing_original(tmp_path, monkeypatch, capsys):
    import _dezero_port

    assert _dezero_port.shadowing_problem() is None
    fake = types.ModuleType("dezero")
    fake.__file__ = "/somewhere/site-packages/dezero/__init__.py"
    monkeypatch.setitem(sys.modules, "dezero", fake)
    assert _dezero_port.main([str(tmp_path / "x.py")]) == 2
    err = capsys.readouterr().err
    assert "pip uninstall dezero" in err and "/somewhere/site-packages/dezero" in err


def test_installed_original_is_explained_by_the_console_script(tmp_path):
    # A real regular package named dezero ahead on the path, as `pip install dezero` makes.
    fake = tmp_path / "site" / "dezero"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("is_simple_core = False\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site")] + [p for p in sys.path if p])
    code = "import sys, _dezero_port; sys.exit(_dezero_port.main(['x.py']))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=60, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "pip uninstall dezero" in r.stderr and str(fake / "__init__.py") in r.stderr
    assert "Traceback" not in r.stderr


def test_modules_imported_from_the_top_level():
    src = ("from dezero import optimizers, layers\n"
           "opt = optimizers.SGD(0.1)\nl = layers.EmbedID(3, 2)\n")
    r = port_source(src)
    assert _imports(r.source) == [
        "import dezero.nn.optimizers as optimizers",
        "from dezero.compat import layers",
    ]
    assert "opt = optimizers.SGD(0.1)" in r.source


def test_function_classes_go_to_compat():
    src = ("import dezero.functions as F\nfrom dezero.core import Add\n"
           "y = Add()(F.Sigmoid()(x), x)\n")
    r = port_source(src)
    assert r.source.splitlines()[:2] == ["import dezero.compat.functions as F",
                                         "from dezero.compat.core import Add"]
    whys = [n[2] for n in r.notes]
    assert whys == ["F.Sigmoid: DeZero's Function class (DeZero's constructor arguments)",
                    "DeZero's Function class (DeZero's constructor arguments)"]
