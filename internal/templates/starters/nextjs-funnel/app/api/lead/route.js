// Receives the lead form. Store leads in a database (DATABASE_URL) or
// forward them to a CRM; here they only reach the log.
export async function POST(request) {
  const form = await request.formData();
  const email = String(form.get("email") || "").trim();
  if (!email.includes("@")) {
    return Response.json({ error: "give an email address" }, { status: 400 });
  }
  console.log("lead", email);
  return Response.redirect(new URL("/?thanks=1", request.url), 303);
}
