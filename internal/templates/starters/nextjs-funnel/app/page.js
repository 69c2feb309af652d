// One page that converts: headline, proof, one call to action, lead form.
export default function Landing() {
  return (
    <main>
      <section className="hero">
        <h1>Launch your idea this week.</h1>
        <p>Everything you need to go from sketch to paying customers.</p>
        <a className="cta" href="#signup">Get early access</a>
      </section>
      <section className="proof">
        <div><strong>3×</strong>faster launches</div>
        <div><strong>1,200+</strong>teams on board</div>
        <div><strong>4.9/5</strong>average rating</div>
      </section>
      <section id="signup">
        <form method="post" action="/api/lead">
          <input type="email" name="email" placeholder="you@company.com" required />
          <button className="cta" type="submit">Get early access</button>
        </form>
      </section>
    </main>
  );
}
