// The platform's health check: answer 200 while the app can serve.
export const dynamic = "force-dynamic";

export function GET() {
  return Response.json({ ok: true });
}
