"""Make TCPStore use use_libuv=False in Debian's torch, which is built without libuv.

Loaded at interpreter start through a .pth file. torch.distributed creates its c10d bindings during its
own import, so the patch waits for that import to finish and then swaps the TCPStore name in every loaded
torch.distributed* module for a subclass. Official PyTorch images need none of this.
"""
import importlib.abc
import importlib.util
import sys

_TARGET = "torch.distributed"


def _patch_loaded_modules():
    try:
        from torch._C._distributed_c10d import TCPStore as base_store
    except ImportError:
        return

    class TCPStore(base_store):
        def __init__(self, *args, **kwargs):
            # Forced, not defaulted: env:// passes use_libuv=True explicitly (from USE_LIBUV, default 1).
            kwargs["use_libuv"] = False
            super().__init__(*args, **kwargs)

    for name, module in list(sys.modules.items()):
        if name.startswith(_TARGET) and getattr(module, "TCPStore", None) is base_store:
            module.TCPStore = TCPStore


class _AfterTorchDistributed(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != _TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        original_exec = spec.loader.exec_module

        def exec_module(module):
            original_exec(module)
            _patch_loaded_modules()

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _AfterTorchDistributed())
