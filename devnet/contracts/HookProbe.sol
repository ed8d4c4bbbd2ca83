// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

interface IBalanceOf {
    function balanceOf(address account) external view returns (uint256);
}

/// @title A hook target for devnet tests: counts its calls, records a balance, or reverts.
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

    function fail() external pure {
        revert("HookProbe: failing on purpose");
    }
}
