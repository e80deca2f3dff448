"""`tunesmith serve`, `tunesmith chat` and `tunesmith mcp`: the three faces of the agent."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(host: str = typer.Option(None, help="address to bind (default: settings host)"),
              port: int = typer.Option(None, help="port (default: settings port, 7860)"),
              no_ui: bool = typer.Option(False, "--no-ui", help="API only, without the Gradio page")) -> None:
        """Start the chat UI and the HTTP API (OpenAI-compatible) on one port."""
        import uvicorn

        from tools.config import settings
        from ui.server import build_server_app

        current = settings()
        host, port = host or current.host, port or current.port
        application = build_server_app(current, with_ui=not no_ui)
        typer.echo(f"Tunesmith on http://{host}:{port}  (API docs: /docs, health: /healthz)")
        uvicorn.run(application, host=host, port=port, log_level="warning")

    @app.command()
    def chat(session: str = typer.Option(None, help="continue this session id")) -> None:
        """Chat with the agent in this terminal (attach files with @path)."""
        from agent.factory import make_agent
        from ui.terminal import chat_loop

        chat_loop(make_agent(), session_id=session)

    @app.command()
    def mcp() -> None:
        """Serve the tools over MCP on stdio (for MCP hosts)."""
        import logging
        import sys

        logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
        from agent.factory import make_agent
        from ui.mcp_server import run_stdio

        run_stdio(make_agent())
