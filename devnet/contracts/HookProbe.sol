// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

interface IBalanceOf {
    function balanceOf(address account) external view returns (uint256);
}

/// @title A hook target for devnet tests: counts its calls, records a balance, burns its gas or
/// reverts.
contract HookProbe {
    uint256 public calls;
    address public lastCaller;
    uint256 public recordedBalance;

    function poke() external {
        calls += 1;
        lastCaller = msg.sender;
    }

    /// Record `account`'s balance of `token` (a post-hook sees what the trade paid out).
    function recordBalance(address token, address account) external {
        calls += 1;
        lastCaller = msg.sender;
        recordedBalance = IBalanceOf(token).balanceOf(account);
    }

    /// Use up all the gas it is given.
    function burn() external view {
        uint256 spin;
        while (gasleft() > 0) {
            spin += 1;
        }
    }

    function fail() external pure {
        revert("HookProbe: failing on purpose");
    }
}
