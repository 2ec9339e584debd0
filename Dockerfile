# Shift Lab, one replica per container. The pretrained weights are a volume, never part of the image; the class
# store is PostgreSQL by SHIFTLAB_DATABASE_URL (deploy/compose.yaml, deploy/kubernetes/), or SQLite in /data.
#   docker build -t shiftlab .
#   docker run -p 8501:8501 -v "$PWD/weights:/app/weights:ro" -e SHIFTLAB_TEACHER_SECRET=… shiftlab
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SHIFTLAB_WEIGHTS_DIR=/app/weights \
    SHIFTLAB_DATA_DIR=/data

RUN useradd --create-home --uid 10001 shiftlab
WORKDIR /app

# The pinned requirements first, so that a change of the code does not reinstall torch.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN mkdir -p /app/weights /data && chown shiftlab:shiftlab /app/weights /data
USER shiftlab
VOLUME ["/app/weights", "/data"]
EXPOSE 8501

HEALTHCHECK --interval=10s --timeout=3s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2)"]

CMD ["python", "-m", "streamlit", "run", "serve.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
