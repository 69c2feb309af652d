FROM local/nginx:bookworm
COPY . /usr/share/nginx/html/
EXPOSE 8080
