import "./globals.css";

export const metadata = {
  title: "Launch faster",
  description: "A landing page that converts",
};

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
