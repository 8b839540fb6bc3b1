"""The core subpackage and the trainer never import Qt, so both run without a display."""
import subprocess
import sys


def test_the_core_and_the_trainer_import_no_qt():
    code = ("import pkgutil, importlib, sys\n"
            "import mnist_desktop.core, trainer\n"
            "for package in (mnist_desktop.core, trainer):\n"
            "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
            "        if not module.name.endswith('__main__'):  # __main__ runs the CLI\n"
            "            importlib.import_module(module.name)\n"
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
