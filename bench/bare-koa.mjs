// The baseline of benchmark 5: a bare Koa server, started the way the service is (under tsx, or by
// Node alone as the compiled service is). Plain JavaScript, so that both can run it.
import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  ctx.body = { ok: true };
});
app.listen(Number(process.env.PORT), '127.0.0.1', () =>
  console.log(`listening on http://127.0.0.1:${process.env.PORT}`),
);
