import assert from 'node:assert/strict';
import { passwordKnown, settleBecome } from '../../../src/runner/context.js';

describe('settleBecome: a host\'s become, decided once', () => {
  const play = { become: false, becomeUser: 'deploy' };
  it("a host's ansible_become wins over -b and the play, either way", () => {
    assert.equal(settleBecome({ become: false }, { become: true }, { become: true }).become, false);
    assert.equal(settleBecome({ become: true }, play, {}).become, true);
  });
  it('-b or the play turns become on where the host says nothing; -b never turns it off', () => {
    assert.equal(settleBecome({}, play, { become: true }).become, true);
    assert.equal(settleBecome({}, { become: true }, { become: false }).become, true);
    assert.equal(settleBecome({}, {}, {}).become, false);
  });
  it('the become user: the host, then --become-user, then the play', () => {
    assert.equal(settleBecome({ becomeUser: 'h' }, play, { becomeUser: 'f' }).becomeUser, 'h');
    assert.equal(settleBecome({}, play, { becomeUser: 'f' }).becomeUser, 'f');
    assert.equal(settleBecome({}, play, {}).becomeUser, 'deploy');
    assert.equal(settleBecome({}, {}, {}).becomeUser, undefined);
  });
  it("the password and method: the host's over the command line's; su or a password means nothing is asked", () => {
    const s = settleBecome({ becomePassword: 'hp' }, play, { becomePassword: 'kp', method: 'su' });
    assert.deepEqual([s.becomePassword, s.method], ['hp', 'su']);
    assert.equal(passwordKnown(settleBecome({}, play, {})), false);
    assert.equal(passwordKnown(settleBecome({}, play, { becomePassword: 'kp' })), true);
    assert.equal(passwordKnown(settleBecome({ becomeMethod: 'su' }, play, {})), true);
  });
});
