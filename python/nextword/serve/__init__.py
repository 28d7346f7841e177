"""The playground: the word-guessing game in a browser, over a JSON API.

``nextword serve MODEL [MODEL ...] [--index corpus.idx]`` starts it; from
Python, :func:`create_app` gives the ASGI app for models already opened::

    from nextword.serve import Playground, Served, create_app
    app = create_app(Playground({"kn5": Served("kn5", lm, "model.nwlm")}))

The web framework (Starlette, run by uvicorn) is the optional extra ``serve``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nextword.serve.api import ENDPOINTS, Playground, RequestError, Served, load_models

if TYPE_CHECKING:
    from starlette.applications import Starlette


def create_app(playground: Playground) -> Starlette:
    """The Starlette app over ``playground`` (needs ``nextword[serve]``)."""
    try:
        from nextword.serve.app import create_app as make
    except ImportError as e:
        raise ImportError("the playground needs starlette: pip install 'nextword[serve]'") from e
    return make(playground)


__all__ = ["ENDPOINTS", "Playground", "RequestError", "Served", "create_app", "load_models"]
