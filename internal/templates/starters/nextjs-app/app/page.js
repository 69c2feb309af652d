export default function Home() {
  return (
    <main>
      <h1>It works.</h1>
      <p>
        Edit <code>app/page.js</code>; the health check is{" "}
        <a href="/api/health">/api/health</a>.
      </p>
    </main>
  );
}
