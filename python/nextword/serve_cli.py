"""``nextword serve``: the playground in a browser (``pip install 'nextword[serve]'``).

    nextword serve kn5.nwlm lstm.npz --index corpus.idx --port 8000

opens each model once, then serves the page and its JSON API on
http://127.0.0.1:8000 (only this machine, unless ``--host`` says otherwise).
"""

from __future__ import annotations

import argparse
from typing import Any


def cmd_serve(args: argparse.Namespace) -> int:
    """Load the models and run the app under uvicorn until Ctrl-C."""
    try:
        import uvicorn
    except ImportError as e:
        raise ValueError("nextword serve needs uvicorn: pip install 'nextword[serve]'") from e
    from nextword.serve import Playground, create_app, load_models
    from nextword.serve.api import optional_index

    models = load_models(list(args.models))
    playground = Playground(models, optional_index(args.index))
    app = create_app(playground)
    names = ", ".join(models)
    print(f"serving {names} on http://{args.host}:{args.port} (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def add_serve_command(sub: Any) -> None:
    """Register ``nextword serve``."""
    serve = sub.add_parser("serve", help="the word-guessing game in a browser (nextword[serve])")
    serve.add_argument(
        "models", nargs="+", help="model files (.nwlm, ARPA, neural checkpoints), each opened once"
    )
    serve.add_argument(
        "--index", help="a corpus index (`nextword index build`): marks what is new in the text"
    )
    serve.add_argument("--port", type=int, default=8000, help="the port to listen on")
    serve.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (0.0.0.0: every machine)"
    )
    serve.set_defaults(func=cmd_serve)
