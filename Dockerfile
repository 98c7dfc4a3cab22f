# The tracker's app for a team server (see compose.yaml and docs/team-server.md): the library,
# the Streamlit app and nothing else, pinned by requirements.lock like the laptop's .venv.
FROM python:3.11-slim
WORKDIR /srv/tracker
COPY pyproject.toml requirements.lock README.md ./
COPY tracker ./tracker
RUN pip install --no-cache-dir -c requirements.lock . && useradd --system tracker
COPY app.py ./
COPY views ./views
COPY .streamlit/config.toml ./.streamlit/config.toml
USER tracker
EXPOSE 8501
# Listen on every address inside the container; compose.yaml publishes the port on the host's
# loopback only, for the reverse proxy that terminates TLS.
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
