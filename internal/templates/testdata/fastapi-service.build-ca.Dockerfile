FROM local/python:bookworm
WORKDIR /app
# Trust the platform's extra CA bundle in this stage's downloads.
COPY berth-ca.crt /etc/ssl/berth-build-ca.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/berth-build-ca.crt \
    SSL_CERT_FILE=/etc/ssl/berth-build-ca.crt \
    PIP_CERT=/etc/ssl/berth-build-ca.crt \
    npm_config_cafile=/etc/ssl/berth-build-ca.crt
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN rm -f berth-ca.crt
ENV PYTHONUNBUFFERED=1 PORT=8000
EXPOSE 8000
CMD ["sh", "-c", "exec uvicorn main:app --host 0.0.0.0 --port ${PORT:-8000}"]
