// The health check's verdict and its failure message.
import { strict as assert } from 'node:assert';
import { describeFailure, http, isHealthy } from '../../../../src/modules/http.js';

describe('http', () => {
  it('is healthy only with a wanted status and, when asked, the text', () => {
    assert.equal(isHealthy({ status: 200, body: 'Hello' }, [200], 'Hell'), true);
    assert.equal(isHealthy({ status: 200, body: 'Hello' }, [200], 'Bye'), false);
    assert.equal(isHealthy({ status: 301 }, [200, 301], undefined), true);
    assert.equal(isHealthy({ error: 'refused' }, [200], undefined), false);
  });

  it('says what it wanted and what it got, with the first 200 characters of the body', () => {
    const msg = describeFailure('http://h/', [200], 'ok', { status: 503, body: 'x'.repeat(300) }, 4);
    assert.equal(msg, `GET http://h/: expected status 200 and a body containing "ok", got 503 after 4 attempts; body: "${'x'.repeat(200)}"`);
    assert.equal(describeFailure('http://h/', [200], undefined, { error: 'ECONNREFUSED' }, 1),
      'GET http://h/: expected status 200, got no answer after 1 attempt: ECONNREFUSED');
  });

  it('rejects a bad URL or option when the task is built', () => {
    assert.throws(() => http({ url: 'not a url' }), /is not a URL/);
    assert.throws(() => http({ url: 'ftp://h/' }), /not an http\(s\) URL/);
    assert.throws(() => http({ url: 'http://h/', retries: -1 }), /retries must be a number/);
  });
});
